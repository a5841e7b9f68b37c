"""What the notebooks publish: tables, prose values, sentences and figures, every count under
disclosure control (:mod:`compendium.report.privacy`).
"""
