"""The emulated SES product: account state, actions, rendering, the seed."""
