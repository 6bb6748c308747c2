"""Order lines on the Data page: detected with a confidence and a preview, named by hand when not recognised,
rolled up with the lines left out kept in the load report (issue 17)."""

from __future__ import annotations

import numpy as np

from tests.app.test_pages import assert_clean, errors, fresh, open_page, state, texts


def classic_log() -> bytes:
    """A 4-column log whose names say nothing: customer code, date, quantity, amount; one line has no customer."""
    rng = np.random.default_rng(1)
    rows = ["a,b,c,d"]
    for c in range(15):
        for k in range(3):
            quantity = int(rng.integers(1, 4))
            rows.append(f"K{c:03d},2024-{1 + (c + k) % 12:02d}-{10 + k},{quantity},{quantity * rng.uniform(2, 20):.2f}")
    rows.append(",2024-05-05,1,3.50")
    return "\n".join(rows).encode()


def odd_log() -> bytes:
    """Order lines detection cannot read: whole-number money, so nothing says which column is the amount."""
    rows = ["who,when,eur,what"]
    for i in range(30):
        rows.append(f"k{i % 6},2024-0{1 + i % 9}-1{i % 10},{5 + i % 4},tea")
    return "\n".join(rows).encode()


def upload(name: str, content: bytes):
    at = open_page(fresh(), "data")
    at.file_uploader(key="data_upload").set_value((name, content, "text/csv")).run()
    assert_clean(at)
    return at


def rollup_preview(at):
    """The preview table of the first customers rolled up (the only table with a recency_days column)."""
    return next(d.value for d in at.dataframe if "recency_days" in getattr(d.value, "columns", ()))


def widget(items, prefix: str):
    return next(w for w in items if str(w.key).startswith(prefix))


def test_a_log_without_telling_names_is_detected_with_its_reasons_and_a_preview() -> None:
    at = upload("log.csv", classic_log())
    said = texts(at)
    assert "These rows look like order lines, not customers." in said
    assert "Confidence: **low**." in said and "customer 'a': found from its values" in said
    preview = rollup_preview(at)
    assert list(preview.columns[:3]) == ["a", "recency_days", "frequency"] and len(preview) == 15
    at.button(key="rollup").click().run()
    assert_clean(at)
    dataset = state(at, "dataset")
    assert dataset.name == "log.csv (per customer)" and len(dataset.table) == 15
    # the line without a customer is in the load report for good, not in a passing toast
    assert dataset.report.rows_rejected == 1
    assert "1 order lines have no customer id and were left out." in dataset.report.warnings
    assert "1 order lines have no customer id and were left out." in texts(at)
    assert any(m.value == "1" for m in at.metric if m.label == "Rows rejected")


def test_order_lines_named_by_hand_when_detection_fails() -> None:
    at = upload("odd.csv", odd_log())
    assert "These rows look like order lines" not in texts(at)
    widget(at.toggle, "orders_by_hand").set_value(True).run()
    assert_clean(at)
    for part, column in (("customer", "who"), ("date", "when"), ("amount", "eur"), ("product", "what")):
        widget(at.selectbox, f"orders_part_{part}_").set_value(column).run()
    assert_clean(at)
    preview = rollup_preview(at)
    assert preview["who"].tolist() == [f"k{i}" for i in range(6)]
    at.button(key="rollup").click().run()
    assert_clean(at)
    dataset = state(at, "dataset")
    assert dataset.name == "odd.csv (per customer)" and len(dataset.table) == 6
    assert "distinct_products" in dataset.table.columns


def test_a_bad_mapping_says_why_and_loses_nothing() -> None:
    at = upload("odd.csv", odd_log())
    widget(at.toggle, "orders_by_hand").set_value(True).run()
    widget(at.selectbox, "orders_part_customer_").set_value("who").run()
    widget(at.selectbox, "orders_part_date_").set_value("what").run()   # text, not dates
    widget(at.selectbox, "orders_part_amount_").set_value("eur").run()
    assert not at.exception
    assert any("These columns do not make order lines. The 'date' column 'what' holds no dates" in e
               for e in errors(at)), errors(at)
    assert not any(b.key == "rollup" for b in at.button)
    dataset = state(at, "dataset")
    assert dataset.name == "odd.csv" and len(dataset.table) == 30   # the order lines are still there
