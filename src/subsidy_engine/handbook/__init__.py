"""The policy handbook: the rulebook rendered in Chinese as one printable HTML file and as Markdown."""
