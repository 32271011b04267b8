"""Address-book cards: vCard and CSV in, vCard, CSV and JSON out."""
