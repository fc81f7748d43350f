"""The edge to providers: webhooks, signature check, sender, status callbacks, sandbox."""
