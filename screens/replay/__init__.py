"""The Replay workspace: a stored run bar by bar, back and forth, with what-if actions."""
