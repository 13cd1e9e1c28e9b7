"""The business of the portal, named with the domain's verbs."""
