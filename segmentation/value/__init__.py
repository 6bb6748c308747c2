"""Customer value from order lines: P(alive), expected purchases, predicted lifetime value, and the holdout check.

``clv`` turns order lines into purchase histories and predicts per customer (MBG/NBD purchases, Gamma-Gamma
spend, closed forms in numpy); ``fit`` finds the models' parameters by maximum likelihood with scipy; ``holdout``
fits on the orders before a date and compares its predictions with what happened after it; ``summary`` totals the
predictions per segment. Importing them imports neither scipy nor pymc: scipy is imported when a fit runs, and
pymc-marketing (the reference the tests compare with) only by the tests.
"""
