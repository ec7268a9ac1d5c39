"""sesrelay: HTTP calls, SCF timer ticks and SaaS webhooks in, Tencent Cloud SES sends out."""

__version__ = "0.1.0"
