"""Delivery: grocery requests for households in quarantine, their lifecycle, queue and figures."""
