"""The emulated SCF product: the actions `sesrelay deploy` uses."""
