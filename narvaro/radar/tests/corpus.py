"""Labelled inbound texts of a municipality, Swedish and English, written for the tests.

Ten per category. As in real traffic, much of it carries none of the words the rules know:
critique that names a street and a delay ("Tredje veckan utan sophämtning"), praise that
describes ("Snöröjningen kom redan klockan sex"), questions without a question mark. The
organisation's labels teach the model these; the rules get about half of them right.
"""

from __future__ import annotations

import random

PLACES = ["Storgatan", "Ringvägen", "Kvarngatan", "Skolgatan", "Torget", "Parkvägen",
          "Järnvägsgatan", "Östra vägen", "Norra torget", "Lillgatan"]  # fmt: skip

TEMPLATES = {
    "critique": [
        "Tredje veckan utan sophämtning på {p}",
        "Ingen har plogat {p} på fyra dagar",
        "Fortfarande mörkt på {p}, lampan har varit släckt i en månad",
        "Still no snow clearing on {p}, we have waited a week",
        "Två timmar i telefonkö och ingen svarar",
        "Cykelbanan vid {p} har inte sopats sedan i höstas",
        "Återigen översvämning vid {p} och ingen gör något",
        "Nobody has collected the rubbish on {p} for two weeks",
        "Väntat i sex veckor på svar om bygglovet, ingen hör av sig",
        "Bussen kom inte idag heller, tredje gången denna vecka",
    ],
    "praise": [
        "Snöröjningen på {p} kom redan klockan sex i morse 👌",
        "Äntligen lagad gatlampa på {p}, stort tack till er",
        "Personalen på biblioteket ordnade allt på fem minuter",
        "Så fin blomsterplantering på {p} i år",
        "The new playground at {p} is a hit with our kids",
        "Smidigt och snabbt med e-tjänsten för bygglov",
        "Imponerad av hur snabbt ni lagade hålet på {p}",
        "Underbar konsert i parken igår, mer sånt!",
        "Kids loved the summer reading programme, well organised",
        "Snabbt svar från kundtjänst, problemet löst direkt",
    ],
    "question": [
        "Letar efter öppettiderna för återvinningscentralen",
        "Info om parkeringstillstånd vid {p} tack",
        "Söker kontakt med handläggare för färdtjänst",
        "Please send me the form for school transport",
        "Behöver blankett för ansökan om förskoleplats",
        "Vart ska man vända sig för att boka lokal vid {p}?",
        "När töms containrarna vid {p}?",
        "Hur ansöker man om bygglov för altan",
        "Is the swimming hall open during the holidays?",
        "Kan man hämta sandsäckar någonstans vid {p}",
    ],
    "other": [
        "Delar vidare till grannarna på {p}",
        "@kommunen @grannen kolla här",
        "Se bild från {p} i morse",
        "Sharing this with my neighbours",
        "Repost",
        "Vi ses på marknaden vid {p}",
        "Heads up everyone on {p}",
        "Påminnelse till föreningen",
        "Samma sak i vår by",
        "Nu börjar vintern på riktigt",
    ],
}


def labelled(seed: int = 1) -> list[tuple[str, str]]:
    """(text, category) pairs, forty of them."""
    rng = random.Random(seed)
    return [
        (template.format(p=rng.choice(PLACES)), category)
        for category, templates in TEMPLATES.items()
        for template in templates
    ]
