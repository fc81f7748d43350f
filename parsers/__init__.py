"""Pure parsing: message text to intents, phone numbers to E.164, tracking codes."""
