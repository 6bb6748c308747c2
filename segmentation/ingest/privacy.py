"""Direct identifiers: find them in columns, mask them for display and inside free text.

Detection looks at the header and confirms with the values (a column called
"PhoneService" holding Yes/No is not a phone number). Masking inside text is
pure regex, so it runs offline and adds no dependency; the phone ``region``
decides which national number formats count, while international numbers
(+CC ...) are always masked.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from segmentation.common import name_tokens
from segmentation.errors import ConfigError

PII_KINDS: tuple[str, ...] = ("email", "phone", "name", "address", "card", "account")

EMAIL_TOKEN = "<EMAIL>"
PHONE_TOKEN = "<PHONE>"
CARD_TOKEN = "<CARD>"
ACCOUNT_TOKEN = "<ACCOUNT>"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_EMAIL_VALUE = re.compile(r"^\s*[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\s*$")
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")

# International numbers are phones in every region: a plus, a country code, then groups.
_INTERNATIONAL = r"\+\d{1,3}(?:[ .\-]?\(0\))?(?:[ .\-]?\(?\d{1,5}\)?){2,6}"
_NATIONAL: dict[str, str] = {
    # 0 + 9-10 digits: 07700 900123, 020 7946 0958, (020) 7946 0958
    "GB": r"\(?0\d{2,5}\)?(?:[ .\-]?\d{2,4}){2,3}",
    "IE": r"\(?0\d{1,3}\)?(?:[ .\-]?\d{2,4}){2,3}",
    # (555) 123-4567, 555-123-4567, 555.123.4567, 1-800-555-0199
    "US": r"(?:1[ .\-]?)?(?:\(\d{3}\)|\d{3})[ .\-]?\d{3}[ .\-]\d{4}|(?:\(\d{3}\) ?)\d{3}\d{4}",
    "DE": r"\(?0\d{2,5}\)?(?:[ /.\-]?\d{2,8}){1,3}",
    "AT": r"\(?0\d{1,4}\)?(?:[ /.\-]?\d{2,8}){1,3}",
    "CH": r"0\d{2}(?:[ .\-]?\d{2,3}){3}",
    "FR": r"0[1-9](?:[ .\-]?\d{2}){4}",
    "NL": r"0\d{1,3}(?:[ .\-]?\d{2,4}){2,3}",
    "BE": r"0\d{1,3}(?:[ .\-/]?\d{2,3}){2,3}",
    "ES": r"[6-9]\d{2}(?:[ .\-]?\d{2,3}){2,3}",
    "IT": r"(?:0\d{1,3}|3\d{2})(?:[ .\-/]?\d{2,4}){2,3}",
    "AU": r"\(?0[2-478]\)?(?:[ .\-]?\d{3,4}){2}|04\d{2}(?:[ .\-]?\d{3}){2}",
    "IN": r"(?:0?[6-9]\d{4}[ .\-]?\d{5})|(?:0\d{2,4}[ .\-]?\d{6,8})",
}
_NATIONAL["UK"] = _NATIONAL["GB"]
_NATIONAL["CA"] = _NATIONAL["US"]
SUPPORTED_REGIONS: tuple[str, ...] = tuple(sorted(_NATIONAL))

_PHONE_CHARS = re.compile(r"^[\d\s+().\-/]+$")
_ADDRESS_VALUE = re.compile(
    r"\b\d+[A-Za-z]?,?\s+(?:[\w'.-]+\s+){0,4}(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|way|boulevard|blvd|"
    r"close|court|ct|place|pl|square|sq|terrace|crescent|gardens|parkway|highway|hwy)\b\.?|"
    r"\b[\w'.-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|laan|straat|gracht)\s+\d+[a-z]?\b|"
    r"\b\d+,?\s+(?:rue|avenue|boulevard|place|chemin|calle|via|viale|piazza)\b",
    re.IGNORECASE,
)
_NAME_VALUE = re.compile(r"^[^\W\d_][\w'’.-]*(?: [^\W\d_][\w'’.-]*){0,3}$")

_NAME_QUALIFIERS = {
    "first",
    "last",
    "full",
    "given",
    "family",
    "middle",
    "customer",
    "client",
    "contact",
    "person",
    "user",
    "member",
    "buyer",
    "owner",
    "holder",
    "account",
    "patient",
    "employee",
    "sur",
    "maiden",
    "recipient",
    "sender",
    "billing",
    "shipping",
    "cardholder",
}
_NOT_PERSON = {
    "product",
    "item",
    "class",
    "division",
    "department",
    "category",
    "company",
    "brand",
    "file",
    "city",
    "country",
    "store",
    "shop",
    "campaign",
    "segment",
    "group",
    "team",
    "event",
    "plan",
    "model",
    "street",
    "variant",
    "variation",
    "colour",
    "color",
    "region",
    "state",
    "business",
    "vendor",
    "supplier",
    "channel",
    "host",
    "domain",
    "sheet",
    "column",
    "project",
    "job",
    "title",
    "type",
    "style",
}


_HEADER_WORDS = {
    # Spanish, French, German, Italian, Portuguese header words read as their English counterparts (accents
    # are dropped first), so "teléfono", "Telefonnummer" and "correo" are recognised like "phone" and "email"
    **dict.fromkeys(("telefono", "telefon", "telephone", "telefone", "telefonnummer", "movil", "movel", "handy",
                     "cellulare", "celular", "tlf", "telf"), "phone"),
    **dict.fromkeys(("correo", "courriel", "emailadresse"), "email"),
    **dict.fromkeys(("nombre", "nom", "nome"), "name"),
    **dict.fromkeys(("apellido", "apellidos", "nachname", "cognome", "sobrenome", "familienname"), "surname"),
    **dict.fromkeys(("vorname", "prenom"), "firstname"),
    **dict.fromkeys(("completo", "completa", "complet", "complete", "vollstandiger"), "full"),
    **dict.fromkeys(("direccion", "domicilio", "adresse", "indirizzo", "endereco", "anschrift", "strasse",
                     "calle", "rue"), "address"),
    **dict.fromkeys(("cuenta", "konto", "compte", "conto", "conta"), "account"),
    **dict.fromkeys(("kontonummer", "kontonr"), "account number"),
    **dict.fromkeys(("tarjeta", "karte", "kreditkarte", "carte", "carta", "cartao"), "card"),
    **dict.fromkeys(("numero", "nummer", "num"), "number"),
    **dict.fromkeys(("cliente", "kunde", "kunden"), "customer"),
}


def _header_tokens(column_name: str) -> list[str]:
    """``name_tokens`` without accents, other languages' header words read in English (``_HEADER_WORDS``)."""
    plain = unicodedata.normalize("NFKD", str(column_name)).encode("ascii", "ignore").decode()
    return [word for t in name_tokens(plain) for word in _HEADER_WORDS.get(t, t).split()]


def _header_kind(column_name: str) -> str | None:
    tokens = _header_tokens(column_name)
    joined = "".join(tokens)
    token_set = set(tokens)
    if "email" in joined or "mail" in token_set:
        return "email"
    if token_set & {"phone", "telephone", "tel", "mobile", "cell", "cellphone", "fax", "msisdn"} or "phone" in joined:
        return "phone"
    if (
        "iban" in token_set
        or "bic" in token_set
        or (token_set & {"account", "acct", "bank"} and token_set & {"number", "no", "nr", "num", "iban", "id"})
        or joined in {"accountnumber", "bankaccount", "acctno"}
    ):
        return "account"
    if (
        token_set & {"card", "cc", "pan"} and token_set & {"number", "no", "nr", "num", "credit", "debit"}
    ) or joined in {"creditcard", "cardnumber", "ccnumber"}:
        return "card"
    if token_set & {"address", "addr", "street", "addressline"} and not token_set & {
        "ip",
        "mac",
        "email",
        "web",
        "url",
    }:
        return "address"
    if (
        "surname" in token_set
        or "lastname" in joined
        or "firstname" in joined
        or "fullname" in joined
        or (
            "name" in token_set
            and not token_set & _NOT_PERSON
            and (len(token_set) == 1 or token_set & _NAME_QUALIFIERS)
        )
        or joined in {"username", "customername", "contactname"}
    ):
        return "name"
    return None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban_ok(value: str) -> bool:
    compact = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _is_card(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    return digits.isdigit() and 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _is_phone_value(value: str, national: re.Pattern[str] | None = None) -> bool:
    if not _PHONE_CHARS.match(value):
        return False
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        return False
    if national is None:
        return True
    return bool(national.fullmatch(value.strip()))


def _share(values: pd.Series, test: object) -> float:
    if values.empty:
        return 0.0
    return float(np.mean([bool(test(v)) for v in values]))  # type: ignore[operator]


def numbers_may_be_pii(column_name: str) -> bool:
    """Whether :func:`detect_pii` may call a column of numbers under this header an identifier: only a phone,
    card or account header does (numbers lose leading zeros and formatting, so the values alone never do)."""
    return _header_kind(str(column_name)) in _NUMERIC_PII


_NUMERIC_PII = ("phone", "card", "account")


def detect_pii(series: pd.Series, column_name: str) -> str | None:
    """The kind of direct identifier a column holds ("email", "phone", "name", "address", "card", "account") or None.

    The header gives a hint (e-mail, phone, name, address, IBAN, card number) and
    the values must agree; without a hint the values alone must be unmistakable
    (mostly valid e-mail addresses, Luhn-valid card numbers, valid IBANs,
    international phone numbers or street addresses).
    """
    hint = _header_kind(str(column_name))
    present = series.dropna()
    if present.empty:
        return None
    if pd.api.types.is_bool_dtype(present):
        return None
    if pd.api.types.is_numeric_dtype(present):
        # Numbers lose leading zeros and formatting, so only a clear header makes them identifiers.
        if hint in _NUMERIC_PII:
            as_int = present.astype("float64")
            if bool((as_int.abs() >= 1e5).mean() >= 0.8):
                return hint
        return None
    if pd.api.types.is_datetime64_any_dtype(present):
        return None
    values = present.astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return None
    if len(values) > 500:
        values = values.iloc[np.linspace(0, len(values) - 1, 500).astype(int)]
    strong = 0.5 if hint else 0.8
    if float(values.str.len().median()) > 80:
        return None  # identifiers are short; long values are free text, masked inside by mask_text instead
    if hint is None:
        # Cheap vectorised gates first: most columns hold neither '@' nor long digit runs.
        has_at = bool(values.str.contains("@", regex=False).mean() >= strong)
        has_digits = bool(values.str.contains(r"\d", regex=True).mean() >= strong)
        if not has_at and not has_digits:
            return None

    if hint == "email" or hint is None:
        if _share(values, _EMAIL_VALUE.match) >= strong:
            return "email"
    if hint == "card" or hint is None:
        if _share(values, _is_card) >= strong:
            return "card"
    if hint == "account" or hint is None:
        if _share(values, _iban_ok) >= strong:
            return "account"
        if (
            hint == "account"
            and _share(
                values, lambda v: bool(re.fullmatch(r"[A-Z0-9 -]{6,34}", v)) and sum(c.isdigit() for c in v) >= 6
            )
            >= strong
        ):
            return "account"
    if hint == "phone":
        if _share(values, _is_phone_value) >= strong:
            return "phone"
    elif hint is None:
        # Without a header hint only international numbers count: plain digit strings are usually ids.
        international = re.compile(_INTERNATIONAL)
        if _share(values, lambda v: _is_phone_value(v) and bool(international.fullmatch(v))) >= strong:
            return "phone"
    if hint == "address":
        if _share(values, lambda v: bool(re.search(r"\d", v)) and bool(re.search(r"[^\W\d_]{2,}", v))) >= strong:
            return "address"
    elif hint is None and _share(values, _ADDRESS_VALUE.search) >= strong:
        return "address"
    if hint == "name":
        # A bare "Name" header may hold product names, which repeat; qualified headers
        # ("Customer Name", "surname") are clear enough on their own.
        qualified = set(name_tokens(str(column_name))) != {"name"}
        distinct_share = values.nunique() / len(values)
        if _share(values, _NAME_VALUE.match) >= 0.7 and (qualified or distinct_share >= 0.3 or len(values) < 20):
            return "name"
    return None


# --------------------------------------------------------------------------------------------------------------------
# Masking inside free text
# --------------------------------------------------------------------------------------------------------------------
_PHONE_PATTERNS: dict[str, re.Pattern[str]] = {}


def _phone_pattern(region: str) -> re.Pattern[str]:
    key = str(region).upper()
    if key not in _NATIONAL:
        raise ConfigError(
            f"The 'region' for phone numbers must be one of {', '.join(SUPPORTED_REGIONS)}. Got {region!r} instead."
        )
    if key not in _PHONE_PATTERNS:
        _PHONE_PATTERNS[key] = re.compile(rf"(?<![\w+])(?:{_INTERNATIONAL}|{_NATIONAL[key]})(?!\w)")
    return _PHONE_PATTERNS[key]


def _replace_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    return PHONE_TOKEN if 7 <= digits <= 15 else text


def _replace_card(match: re.Match[str]) -> str:
    return CARD_TOKEN if _is_card(match.group(0)) else match.group(0)


def _replace_iban(match: re.Match[str]) -> str:
    return ACCOUNT_TOKEN if _iban_ok(match.group(0)) else match.group(0)


def mask_text(text: str, region: str = "GB") -> str:
    """Replace e-mail addresses, card numbers, IBANs and phone numbers in free text with tokens.

    E-mails become ``<EMAIL>``, Luhn-valid card numbers ``<CARD>``, valid IBANs
    ``<ACCOUNT>`` and phone numbers ``<PHONE>``. ``region`` ("GB", "US", "DE", ...)
    decides which national formats count as phone numbers; international numbers
    starting with + are always masked. Run this before texts are embedded or shown.
    """
    if not isinstance(text, str):
        return "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    phone = _phone_pattern(region)
    if "@" in text:
        text = _EMAIL.sub(EMAIL_TOKEN, text)
    if sum(ch.isdigit() for ch in text) < 7:
        return text  # nothing below can match with fewer than seven digits
    text = _CARD.sub(_replace_card, text)
    text = _IBAN.sub(_replace_iban, text)
    return phone.sub(_replace_phone, text)


def mask_texts(texts: Sequence[str], region: str = "GB") -> list[str]:
    """:func:`mask_text` for many texts; missing values become empty strings."""
    _phone_pattern(region)  # validate once, even for an empty list
    return [mask_text(t, region) for t in texts]


def mask_text_column(series: pd.Series, region: str = "GB") -> pd.Series:
    """:func:`mask_text` for every text cell of a column (for exports); missing cells and values that are not
    text stay as they are, and so do the index, the name and a string dtype.

    Only cells holding an "@" or at least seven digits can hold an identifier, so only those are masked one by one.
    """
    _phone_pattern(region)
    text = series.astype("string")
    candidates = (text.str.contains("@", regex=False) | (text.str.count(r"\d") >= 7)).fillna(False)
    candidates &= series.map(lambda v: isinstance(v, str)).astype(bool)
    if not candidates.any():
        return series.copy()
    out = series.astype(object).copy()
    out[candidates] = [mask_text(v, region) for v in series[candidates]]
    return out.astype(series.dtype) if isinstance(series.dtype, pd.StringDtype) else out


# --------------------------------------------------------------------------------------------------------------------
# Partial masking for display
# --------------------------------------------------------------------------------------------------------------------
def _stars(word: str, keep: int = 1) -> str:
    return word[:keep] + "*" * max(len(word) - keep, 0) if len(word) > keep else "*" * len(word)


def mask_value(value: object, kind: str | None) -> str:
    """A display form of one identifier that shows enough to recognise it and no more.

    "jane.doe@example.com" -> "j***@example.com"; "+44 20 7946 0123" -> "+44 ****** 123";
    card "4111 1111 1111 1111" -> "**** **** **** 1111"; names keep initials ("J*** D**").
    Missing values become "".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if not text:
        return ""
    if kind == "email" and "@" in text:
        local, _, domain = text.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        prefix = ""
        if text.startswith("+"):
            first_group = re.match(r"\+\d{1,3}", text)
            prefix = first_group.group(0) if first_group and re.match(r"\+\d{1,3}[ .\-(]", text) else "+" + digits[:2]
        return f"{prefix} ****** {digits[-3:]}".strip() if len(digits) > 3 else "***"
    if kind == "card":
        digits = re.sub(r"\D", "", text)
        return f"**** **** **** {digits[-4:]}" if len(digits) >= 8 else "****"
    if kind == "account":
        compact = re.sub(r"\s", "", text)
        if len(compact) <= 6:
            return "*" * len(compact)
        head = compact[:2] if compact[:2].isalpha() else ""
        return f"{head}{'*' * 4} {compact[-4:]}".strip()
    if kind == "name":
        return " ".join(_stars(w) for w in text.split())
    if kind == "address":
        return " ".join("*" * len(w) if any(c.isdigit() for c in w) else _stars(w) for w in text.split())
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def mask_series(series: pd.Series, kind: str | None) -> pd.Series:
    """:func:`mask_value` for every cell of a column, keeping the index."""
    return pd.Series([mask_value(v, kind) for v in series], index=series.index, dtype=object, name=series.name)


def mask_frame(table: pd.DataFrame, roles: Mapping[str, str], region: str = "GB") -> pd.DataFrame:
    """A copy of ``table`` safe to show: "pii" columns partially masked, free text with identifiers tokenised.

    ``roles`` maps columns to roles (as from ``roles.resolve_roles``); columns
    not listed are shown as they are.
    """
    shown = table.copy()
    for column, role in roles.items():
        if column not in shown.columns:
            continue
        if role == "pii":
            kind = detect_pii(table[column], str(column))
            shown[column] = mask_series(table[column], kind)
        elif role == "text":
            col = table[column]
            shown[column] = pd.Series(
                [
                    v if v is None or (isinstance(v, float) and math.isnan(v)) else mask_text(str(v), region)
                    for v in col
                ],
                index=col.index,
                dtype=object,
            )
    return shown
