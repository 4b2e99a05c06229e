"""Multi-agent learning: models of other agents and the social-influence reward (issue 21)."""
