"""Text facts both packages need: which writing system a text is in, and how long it is.

Used by the knowledge base (chunking, lexical search) and the studio (generators, checks), so
that neither imports the other for them. Imports nothing from either.
"""
