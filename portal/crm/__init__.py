"""CRM backends behind one interface, and the fields they offer to forms."""
