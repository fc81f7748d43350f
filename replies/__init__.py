"""Reply wording in Bahasa Indonesia, rendering, and SMS segment counting."""
