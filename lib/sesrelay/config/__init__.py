"""The config file: the model the function reads (`model`) and the offline checker."""
