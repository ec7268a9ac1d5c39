"""Campaigns: an ad-hoc recipient list -> recipient groups -> one batch task per group."""
