"""Pure rules over customers, config and today: contact rhythm, loyalty, search, filters, checks."""
