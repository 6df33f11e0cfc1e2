"""Intake batching, matching, decisions and the deadline sweeper.

The only package that combines the store with the rules.
"""
