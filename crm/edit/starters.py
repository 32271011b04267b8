"""The starter message templates ``crm init`` writes to ``templates/messages/``, per language.

Only the words are translated: what each template is (its kind, topic and default audience) is the
same in every language, so it is written once in ``_WHAT``.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "de", "es")
NAMES: tuple[str, ...] = ("holiday", "birthday", "thanks", "offer", "winback", "closure")

# name -> (kind, topic, the report its audience comes from, or "")
_WHAT: dict[str, tuple[str, str, str]] = {
    "holiday": ("greeting", "holidays", ""),
    "birthday": ("greeting", "birthday", ""),
    "thanks": ("thanks", "thanks", "thanks"),
    "offer": ("offer", "offers", ""),
    "winback": ("message", "winback", "winback"),
    "closure": ("notice", "closures", ""),
}

# An empty signature reads as none, so the business name signs instead.
_SIGN = "{{ me.signature | default(me.name, true) }}"

# language -> name -> (subject, log summary, body); {sign} is the signature line.
_WORDS: dict[str, dict[str, tuple[str, str, str]]] = {
    "en": {
        "holiday": (
            "Happy holidays from {{ me.name }}",
            "Holiday greeting",
            "Hi {{ hello }},\n\n"
            "As the year winds down, I just want to say thank you for your trust this year. "
            "I hope you get a few quiet days with the people you love.\n\n"
            "Happy holidays, and see you in the new year!\n{sign}\n",
        ),
        "birthday": (
            "Happy birthday, {{ hello }}!",
            "Birthday greeting",
            "Hi {{ hello }},\n\n"
            "Happy birthday! I hope today brings you something lovely, "
            "and that the year ahead is a good one.\n\n"
            "Warm wishes,\n{sign}\n",
        ),
        "thanks": (
            "Thank you, {{ hello }}",
            "Thank-you note",
            "Hi {{ hello }},\n\n"
            "I just wanted to say thank you. It means a lot that you keep coming back: "
            "people like you are the reason I love what I do.\n\n"
            "See you soon,\n{sign}\n",
        ),
        "offer": (
            "Something for you from {{ me.name }}",
            "Offer",
            "Hi {{ hello }},\n\n"
            "I have something I'd like to offer you first:\n\n"
            "[...]\n\n"
            "If you're interested, just reply to this message.\n\n"
            "Best,\n{sign}\n",
        ),
        "winback": (
            "It's been a while, {{ hello }}",
            "Checked in after a long time",
            "Hi {{ hello }},\n\n"
            "It's been a while since we last talked"
            '{% if last is defined %} (that was in {{ last.date | date("MMMM y") }}){% endif %}, '
            "and I was wondering how you are.\n\n"
            "I'd be glad to see you again. Just reply to this message and we'll find a time.\n\n"
            "Warm wishes,\n{sign}\n",
        ),
        "closure": (
            'Closed from {{ closure.from | date("d MMMM") }}',
            "Told about the closure",
            "Hi {{ hello }},\n\n"
            "So you can plan ahead: we're closed from {{ closure.from | date }} "
            "to {{ closure.to | date }}. The last day to come in is "
            "{{ closure.last_open | date }}; we're back on {{ closure.reopens | date }}.\n\n"
            "Reply if you'd like a time before the break.\n\n"
            "Best,\n{sign}\n",
        ),
    },
    "de": {
        "holiday": (
            "Frohe Feiertage wünscht {{ me.name }}",
            "Feiertagsgruß",
            "Hallo {{ hello }},\n\n"
            "das Jahr geht zu Ende, und ich möchte dir einfach Danke sagen für dein Vertrauen. "
            "Ich wünsche dir ruhige Feiertage mit den Menschen, die dir wichtig sind, "
            "und einen guten Start ins neue Jahr!\n\n"
            "Herzliche Grüße\n{sign}\n",
        ),
        "birthday": (
            "Alles Gute zum Geburtstag, {{ hello }}!",
            "Geburtstagsgruß",
            "Hallo {{ hello }},\n\n"
            "alles Gute zum Geburtstag! Ich wünsche dir einen wunderbaren Tag "
            "und ein neues Lebensjahr voller schöner Momente.\n\n"
            "Herzliche Grüße\n{sign}\n",
        ),
        "thanks": (
            "Danke, {{ hello }}!",
            "Dankeschön",
            "Hallo {{ hello }},\n\n"
            "ich wollte einfach mal Danke sagen. Es freut mich sehr, dass du immer wieder kommst: "
            "Menschen wie du sind der Grund, warum ich meine Arbeit so gern mache.\n\n"
            "Bis bald und liebe Grüße\n{sign}\n",
        ),
        "offer": (
            "Ein Angebot für dich von {{ me.name }}",
            "Angebot",
            "Hallo {{ hello }},\n\n"
            "ich habe etwas, das ich dir gern zuerst anbieten möchte:\n\n"
            "[...]\n\n"
            "Wenn du Interesse hast, antworte einfach auf diese Nachricht.\n\n"
            "Liebe Grüße\n{sign}\n",
        ),
        "winback": (
            "Lange nicht gesehen, {{ hello }}!",
            "Nach langer Zeit nachgefragt",
            "Hallo {{ hello }},\n\n"
            "wir haben lange nichts voneinander gehört"
            '{% if last is defined %} (zuletzt im {{ last.date | date("MMMM y") }}){% endif %}. '
            "Wie geht es dir?\n\n"
            "Ich würde mich freuen, dich wiederzusehen. Antworte einfach auf diese Nachricht, "
            "dann finden wir einen Termin.\n\n"
            "Liebe Grüße\n{sign}\n",
        ),
        "closure": (
            'Geschlossen ab {{ closure.from | date("d. MMMM") }}',
            "Über die Schließzeit informiert",
            "Hallo {{ hello }},\n\n"
            "damit du planen kannst: Wir haben vom {{ closure.from | date }} "
            "bis zum {{ closure.to | date }} geschlossen. Der letzte Tag davor ist der "
            "{{ closure.last_open | date }}, ab dem {{ closure.reopens | date }} sind wir "
            "wieder da.\n\nMöchtest du vorher noch einen Termin? Antworte einfach.\n\n"
            "Liebe Grüße\n{sign}\n",
        ),
    },
    "es": {
        "holiday": (
            "Felices fiestas de parte de {{ me.name }}",
            "Felicitación de fiestas",
            "¡Hola, {{ hello }}!\n\n"
            "Se acaba el año y quería darte las gracias por tu confianza. "
            "Te deseo unos días tranquilos con la gente que quieres.\n\n"
            "¡Felices fiestas y nos vemos en el año nuevo!\n{sign}\n",
        ),
        "birthday": (
            "¡Feliz cumpleaños, {{ hello }}!",
            "Felicitación de cumpleaños",
            "¡Hola, {{ hello }}!\n\n"
            "¡Feliz cumpleaños! Que pases un día precioso "
            "y que este nuevo año venga lleno de cosas buenas.\n\n"
            "Un abrazo,\n{sign}\n",
        ),
        "thanks": (
            "Gracias, {{ hello }}",
            "Agradecimiento",
            "¡Hola, {{ hello }}!\n\n"
            "Solo quería darte las gracias. Me alegra mucho que sigas confiando en mí: "
            "gente como tú es la razón por la que disfruto tanto de mi trabajo.\n\n"
            "¡Hasta pronto!\n{sign}\n",
        ),
        "offer": (
            "Una propuesta para ti de {{ me.name }}",
            "Oferta",
            "¡Hola, {{ hello }}!\n\n"
            "Tengo algo que quería ofrecerte a ti primero:\n\n"
            "[...]\n\n"
            "Si te interesa, responde a este mensaje y lo hablamos.\n\n"
            "Un saludo,\n{sign}\n",
        ),
        "winback": (
            "¡Cuánto tiempo, {{ hello }}!",
            "Retomamos el contacto",
            "¡Hola, {{ hello }}!\n\n"
            "Hace tiempo que no hablamos"
            "{% if last is defined %} (la última vez fue en "
            "{{ last.date | date(\"MMMM 'de' y\") }}){% endif %}. ¿Qué tal estás?\n\n"
            "Me encantaría volver a verte. Responde a este mensaje y buscamos un hueco.\n\n"
            "Un abrazo,\n{sign}\n",
        ),
        "closure": (
            "Cerramos desde el {{ closure.from | date(\"d 'de' MMMM\") }}",
            "Aviso de cierre",
            "¡Hola, {{ hello }}!\n\n"
            "Te aviso con tiempo: cerramos del {{ closure.from | date }} "
            "al {{ closure.to | date }}. El último día antes es el "
            "{{ closure.last_open | date }}; volvemos el {{ closure.reopens | date }}.\n\n"
            "Si quieres una cita antes, responde a este mensaje.\n\n"
            "Un saludo,\n{sign}\n",
        ),
    },
}


def _starter(language: str, name: str, subject: str, log: str, body: str) -> str:
    """Return one template file: its front matter, then its body."""
    kind, topic, report = _WHAT[name]
    audience = f"audience:\n  report: {report}\n" if report else ""
    return (
        f"---\nkind: {kind}\nchannel: any\nlanguage: {language}\nsubject: {subject}\n"
        f"topic: {topic}\nlog: {log}\n{audience}---\n{body.replace('{sign}', _SIGN)}"
    )


STARTERS: dict[str, dict[str, str]] = {
    language: {name: _starter(language, name, *words[name]) for name in NAMES}
    for language, words in _WORDS.items()
}
