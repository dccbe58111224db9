"""What the web pages call in the engine: storing and checking uploads, recording runs and their files."""
