"""The application layer: what a call, an agent and a citizen go through on any telephony
back-end. The call lifecycle both drivers share, dispatch (pop, then ring), call sessions,
the citizen registry and profile, screen-pop publishing and delivery, the typed config.
No Flask and no driver is imported here."""
