"""Free text is recognised from the data, in any language (issue 18): a Spanish order log's ``comentario`` is the
order lines' text column, a French customer table's ``avis`` is free text; product codes and short categories
never are, whatever their names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.ingest.layout import guess_layout
from segmentation.ingest.orders import rollup_dataset
from segmentation.ingest.read import load_table
from segmentation.ingest.roles import free_text_words, infer_roles

COMENTARIOS = ["El pedido llegó tarde y la caja estaba rota", "Muy contento con la calidad del producto",
               "No me gustó el color, lo devolveré", "Entrega rápida, todo perfecto",
               "El tamaño no corresponde a la descripción", "Servicio al cliente muy amable",
               "Falta una pieza en el paquete", "Volveré a comprar sin duda", "Tardó dos semanas en llegar",
               "Buena calidad pero caro"]
DETALLES = ["gracias", "otra vez", "como la última vez", "según lo esperado", "nada más que decir",
            "lo dejo claro", "espero respuesta", "por segunda vez"]
CATEGORIAS = ["Lácteos", "Bebidas", "Frutas y verduras", "Panadería"]


def spanish_order_log(lines: int = 240) -> bytes:
    """Order lines as a Spanish shop exports them: semicolons, decimal commas, dd/mm/yyyy, Spanish names only."""
    rng = np.random.default_rng(1)
    rows = ["cliente;fecha;referencia;categoria;unidades;importe;comentario"]
    for _ in range(lines):
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        units = int(rng.integers(1, 6))
        amount = f"{units * rng.uniform(3, 60):.2f}".replace(".", ",")
        comment = (f"{COMENTARIOS[rng.integers(len(COMENTARIOS))]}, {DETALLES[rng.integers(len(DETALLES))]}"
                   if rng.random() < 0.8 else "")
        rows.append(f"C{rng.integers(1, 41):03d};{day:%d/%m/%Y};REF-{rng.integers(1, 300):04d};"
                    f"{CATEGORIAS[rng.integers(4)]};{units};{amount};{comment}")
    return "\n".join(rows).encode("utf-8")


def test_a_spanish_order_log_gets_comentario_as_its_text_column() -> None:
    dataset = load_table(spanish_order_log(), name="pedidos.csv")
    assert str(dataset.table["importe"].dtype).startswith("float")        # decimal commas read as numbers
    guess = guess_layout(dataset.table)
    assert guess is not None and guess.layout.customer == "cliente" and guess.layout.date == "fecha"
    assert guess.layout.text == "comentario"                              # no English or German name needed
    rolled, _ = rollup_dataset(dataset, guess.layout)
    roles = infer_roles(rolled.table)
    assert roles["comentario"].role == "text", roles["comentario"].reason


def french_customers(n: int = 60) -> pd.DataFrame:
    """Customers with short reviews that repeat (a third unique, about four words), a product code and short
    product categories of two words."""
    rng = np.random.default_rng(2)
    avis = ["Très bien, je recommande", "Livraison rapide et produit conforme", "Déçu par la qualité du tissu",
            "Parfait, rien à redire", "Le colis est arrivé abîmé", "Service client injoignable depuis une semaine",
            "Bon rapport qualité prix", "Taille trop petite, échange compliqué", "Excellent, comme toujours",
            "Article jamais reçu, remboursement attendu", "Emballage soigné, merci", "Couleur différente de la photo",
            "Je ne commanderai plus", "Très satisfaite de mon achat", "Produit fragile, cassé en deux jours",
            "Délai correct, bonne qualité", "Rien à signaler", "Vendeur très réactif et aimable",
            "Prix un peu élevé mais ça vaut le coup", "Notice en anglais seulement"]
    return pd.DataFrame({
        "client_id": [f"F{i:04d}" for i in range(n)],
        "ville": rng.choice(["Paris", "Lyon", "Lille", "Nantes"], n),
        "categorie": rng.choice(["Produits laitiers", "Épicerie fine", "Fruits et légumes", "Boissons"], n),
        "code_produit": [f"FR-{rng.integers(100, 999)}" for _ in range(n)],
        "depense": np.round(rng.gamma(2, 40, n), 2),
        "avis": rng.choice(avis, n),
    })


def test_a_french_customer_table_reads_avis_as_free_text_and_codes_and_categories_not() -> None:
    table = french_customers()
    assert table["avis"].nunique() / len(table) < 0.5    # the repeated short reviews the old rule missed
    roles = infer_roles(table)
    assert roles["avis"].role == "text", roles["avis"].reason
    assert roles["categorie"].role == "categorical" and roles["ville"].role == "categorical"
    assert roles["code_produit"].role != "text"


@pytest.mark.parametrize(("values", "is_text"), [
    (["Muy contento con la calidad", "El pedido llegó tarde", "Caja rota, lo devolveré", "Todo perfecto, gracias"],
     True),
    (["REF-0012", "REF-0450", "AB-99-X", "REF-1200"], False),                     # codes: one word
    (["Produits laitiers", "Boissons", "Épicerie fine"] * 20, False),            # few distinct values
    (["12,50 EUR", "3,99 EUR", "120,00 EUR", "7,25 EUR"], False),               # mostly digits
    (["01/02/2024 10:00", "15/03/2024 09:30", "30/04/2024 12:00"], False),      # dates
])
def test_free_text_words_reads_the_values_not_the_name(values: list[str], is_text: bool) -> None:
    assert (free_text_words(pd.Series(values, name="x")) is not None) is is_text
