"""Direct identifiers are found from headers and values, and masked for display and inside free text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import ConfigError
from segmentation.ingest.privacy import detect_pii, mask_frame, mask_series, mask_text, mask_texts, mask_value


def strings(values: list[str], repeat: int = 10) -> pd.Series:
    return pd.Series(values * repeat, dtype="str")


@pytest.mark.parametrize(
    ("column", "values", "kind"),
    [
        ("Email", ["ann@example.com", "bob.smith@mail.co.uk", "c+d@example.org"], "email"),
        ("contact", ["ann@example.com", "bob.smith@mail.co.uk", "c+d@example.org"], "email"),  # values alone
        ("Mobile", ["07700 900123", "07700 900456", "+44 7700 900789"], "phone"),
        ("tel", ["+49 30 1234567", "+49 89 7654321", "+49 40 1112223"], "phone"),
        ("contact_no", ["+1 (555) 123-4567", "+44 20 7946 0958", "+33 1 23 45 67 89"], "phone"),  # international
        ("Customer Name", ["Ann Smith", "Bob Jones", "Carla Díaz", "Dev Patel"], "name"),
        ("surname", ["Smith", "Jones", "Díaz", "Patel", "Nakamura"], "name"),
        ("Address", ["12 Baker Street", "221B Main Road", "5 Elm Avenue"], "address"),
        ("where", ["12 Baker Street", "221B Main Road", "5 Elm Avenue"], "address"),
        ("card_number", ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"], "card"),
        ("pan_like", ["4111111111111111", "5500000000000004", "4012888888881881"], "card"),
        ("IBAN", ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606"], "account"),
        ("account_number", ["12345678", "87654321", "11223344"], "account"),
    ],
)
def test_detect_pii(column: str, values: list[str], kind: str) -> None:
    assert detect_pii(strings(values), column) == kind


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("PhoneService", ["Yes", "No", "No"]),
        ("Class Name", ["Dresses", "Knits", "Blouses"]),
        ("Division Name", ["General", "Initmates", "General Petite"]),
        ("customerID", ["7590-VHVEG", "5575-GNVDE", "3668-QPYBK"]),
        ("StockCode", ["85123A", "71053", "84406B"]),
        ("email_opt_in", ["yes", "no", "yes"]),
        ("review", ["Love it, would buy again", "Too small", "Great value for 12 pounds"]),
        ("order_date", ["2021-03-04", "2021-05-06", "2022-01-02"]),
    ],
)
def test_ordinary_columns_are_not_pii(column: str, values: list[str]) -> None:
    assert detect_pii(strings(values), column) is None


def test_numeric_columns_need_a_clear_header() -> None:
    numbers = pd.Series(np.arange(7_700_900_000, 7_700_900_100))
    assert detect_pii(numbers, "phone") == "phone"
    assert detect_pii(numbers, "CustomerID") is None
    assert detect_pii(pd.Series([np.nan, np.nan]), "email") is None


def test_mask_text_replaces_identifiers_with_tokens() -> None:
    text = "Mail j.doe@example.com or call 07700 900123 / +44 20 7946 0958; card 4111 1111 1111 1111."
    assert mask_text(text) == "Mail <EMAIL> or call <PHONE> / <PHONE>; card <CARD>."


def test_mask_text_keeps_dates_prices_and_ordinary_numbers() -> None:
    text = "Ordered 3 items on 12/05/2021 for £19.99, order 536365, size 10, at 10:30."
    assert mask_text(text, region="GB") == text
    assert mask_text(text, region="US") == text


def test_card_numbers_must_pass_the_luhn_check() -> None:
    assert mask_text("ref 4111 1111 1111 1112") == "ref 4111 1111 1111 1112"


def test_phone_region_decides_national_formats() -> None:
    us = "Call (555) 123-4567 today"
    gb = "Call 020 7946 0958 today"
    assert mask_text(us, region="US") == "Call <PHONE> today"
    assert mask_text(us, region="GB") == us
    assert mask_text(gb, region="GB") == "Call <PHONE> today"
    assert mask_text("Ruf 030 1234567 an", region="DE") == "Ruf <PHONE> an"
    assert mask_text("Call +1 555 123 4567", region="GB") == "Call <PHONE>"  # international: every region


def test_unknown_region_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"'region' for phone numbers must be one of .*GB.*Got 'XX'"):
        mask_text("hello", region="XX")


def test_mask_texts_handles_missing_values() -> None:
    assert mask_texts(["a@b.com wrote", None, float("nan"), "plain"]) == ["<EMAIL> wrote", "", "", "plain"]  # type: ignore[list-item]


def test_iban_in_text() -> None:
    assert mask_text("pay to GB82 WEST 1234 5698 7654 32 please") == "pay to <ACCOUNT> please"


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("john.doe@example.com", "email", "j***@example.com"),
        ("+44 20 7946 0123", "phone", "+44 ****** 123"),
        ("07700 900123", "phone", "****** 123"),
        ("4111 1111 1111 1111", "card", "**** **** **** 1111"),
        ("GB82WEST12345698765432", "account", "GB**** 5432"),
        ("Jane Doe", "name", "J*** D**"),
        ("12 Baker Street", "address", "** B**** S*****"),
        ("secret", None, "s****t"),
        (None, "email", ""),
        (float("nan"), "name", ""),
        (7700900123.0, "phone", "****** 123"),
    ],
)
def test_mask_value(value: object, kind: str | None, shown: str) -> None:
    assert mask_value(value, kind) == shown


def test_mask_series_keeps_index() -> None:
    series = pd.Series(["ann@example.com", None], index=[10, 20], name="email")
    masked = mask_series(series, "email")
    assert masked.tolist() == ["a***@example.com", ""]
    assert masked.index.tolist() == [10, 20] and masked.name == "email"


def test_mask_frame_masks_pii_and_free_text_only() -> None:
    table = pd.DataFrame(
        {
            "email": ["ann@example.com", "bob@example.com"],
            "comment": ["write to ann@example.com", None],
            "plan": ["basic", "pro"],
        }
    )
    shown = mask_frame(table, {"email": "pii", "comment": "text", "plan": "categorical"})
    assert shown["email"].tolist() == ["a***@example.com", "b***@example.com"]
    assert shown["comment"].iloc[0] == "write to <EMAIL>"
    assert pd.isna(shown["comment"].iloc[1])
    assert shown["plan"].tolist() == ["basic", "pro"]
    assert table["email"].iloc[0] == "ann@example.com"  # the input is not changed


@pytest.mark.parametrize(("header", "values", "kind"), [
    ("teléfono", ["612 345 678", "699 111 222", "655 432 109", "611 000 123"], "phone"),
    ("Telefonnummer", ["0151 2345678", "0160 9876543", "0171 1234567", "0176 7654321"], "phone"),
    ("correo", ["ana@ejemplo.es", "luis@correo.es", "eva@mail.com", "pau@web.es"], "email"),
    ("Nombre completo", ["Ana García", "Luis Pérez", "Eva Martín", "Pau Soler"], "name"),
    ("prénom", ["Camille", "Hugo", "Léa", "Louis"], "name"),
    ("Dirección", ["Calle Mayor 5, Madrid", "Avenida del Sol 12", "Calle Luna 3", "Plaza España 1"], "address"),
])
def test_other_languages_headers_are_recognised_like_their_english_counterparts(header, values, kind):
    assert detect_pii(pd.Series(values * 5), header) == kind


def test_a_spanish_phone_column_of_plain_numbers_is_personal_data_in_a_wide_file_too():
    from segmentation.ingest.roles import infer_roles

    rng = np.random.default_rng(0)
    table = pd.DataFrame({f"medida_{i}": rng.normal(size=60).round(2) for i in range(40)})   # the block path
    table["telefono"] = rng.integers(600_000_000, 699_999_999, 60)
    table["nombre_producto"] = ["Vestido", "Camisa", "Falda"] * 20
    roles = infer_roles(table)
    assert roles["telefono"].role == "pii" and roles["telefono"].pii_kind == "phone"
    assert roles["nombre_producto"].role != "pii"   # "the product's name" is not a person's
    assert roles["medida_0"].role == "numeric"
