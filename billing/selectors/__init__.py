"""Reads of billing's data, one module per entity, always through tenants.access (a customer sees only its own).

Pages and the API read the same entity from the same module; each read costs a fixed number of queries whatever
the number of rows (a page's customers, then their rows in one query; never one query per row).
"""
