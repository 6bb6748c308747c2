"""Exports, the stakeholder report, saved models, assignment of new customers, scale-out scoring."""
