"""The config file: its models and loader (`model`, all the function reads), the `{{tick.X}}`
placeholders of job params (`ticks`), YAML reading (`yaml_file`), the offline checker (`check`).
"""
