"""Jobs and the workflow: what each intent and each officer action does to the store."""
