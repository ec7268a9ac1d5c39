"""SCF timer ticks: one send per tick, jobs from the config file."""
