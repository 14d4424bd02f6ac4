"""The bottom of the house: exceptions, bounds, where things are, and plain-text rules. Imports nothing
of the kit above it; standard library only."""
