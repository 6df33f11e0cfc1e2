"""API keys and roles, who may act for which enterprise, and personal-data protection."""
