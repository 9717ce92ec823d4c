"""Contact flows (IVR and chat bots): the flow engine, schedules and holidays, prompts."""
