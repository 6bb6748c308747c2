"""A small seeded order log that the value models fit in a second or two, and the layout naming its columns."""

import numpy as np
import pandas as pd
import pytest

from segmentation.ingest.orders import TransactionSchema

START = pd.Timestamp("2023-01-01")
LAYOUT = TransactionSchema(customer="customer_id", date="order_date", amount="amount", quantity=None, price=None,
                           order="order_id", product=None, category=None, text=None)


def make_orders(customers: int = 80, seed: int = 7) -> pd.DataFrame:
    """A year of orders (2023): ``customers`` simulated buyers (a purchase rate each, a chance of leaving after
    each purchase), plus three pinned ones: "A-often" buys every 14 days all year, "Z-gone" bought five times in
    January and never again, "R-returns" only returned goods."""
    rng = np.random.default_rng(seed)
    rows = []

    def buy(who: str, day: int, amount: float) -> None:
        n = len(rows)
        rows.append({"order_id": f"O{n:05d}", "customer_id": who,
                     "order_date": (START + pd.Timedelta(days=int(day))).strftime("%Y-%m-%d"),
                     "amount": round(float(amount), 2)})

    for c in range(customers):
        rate, leave, day = rng.gamma(1.0, 1 / 30), rng.beta(1, 6), float(rng.integers(0, 200))
        while day <= 364:
            buy(f"C{c:03d}", day, rng.gamma(4, 12))
            if rng.random() < leave:
                break
            day += rng.exponential(1 / rate)
    for day in range(0, 365, 14):
        buy("A-often", day, 60)
    for day in (0, 5, 10, 15, 20):
        buy("Z-gone", day, 60)
    buy("R-returns", 100, -30)
    buy("R-returns", 120, -15)
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def orders() -> pd.DataFrame:
    return make_orders()


@pytest.fixture(scope="session")
def prediction(orders):
    from segmentation.value.clv import predict_value

    return predict_value(orders, LAYOUT)
