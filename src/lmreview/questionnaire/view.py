"""What a rendered questionnaire needs besides the answers: labels in the chosen language with ``${name}``
values filled in, the options of each select after its filter, and the few words of the page itself (buttons,
messages) in the respondent's language."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from lmreview.questionnaire import engine, expressions, form_types, long_lists
from lmreview.questionnaire.xlsform import DEFAULT_LANGUAGE, Choice, FormDefinition, Question, language_code, pick

UI = {
    "en": {
        "save": "Save draft",
        "autosaved": "Draft saved.",
        "not_autosaved": "Not saved: an answer is too long or out of range. Press Save draft to see which.",
        "submit": "Submit",
        "saved": "Your answers are saved. You can come back to this link to finish.",
        "submitted": "Thank you: this questionnaire was submitted on",
        "fix": "Please check these answers before you submit",
        "not_saved": "Nothing was saved: please correct these answers first",
        "add": "Add",
        "remove": "Remove",
        "required": "required",
        "no_answer": "No answer",
        "language": "Language",
        "decline": "We cannot answer this questionnaire",
        "decline_reason": "Tell the review team why (optional)",
        "locate": "Use my location",
        "page": "Page",
        "previous": "Previous",
        "next": "Next",
        "file_sent": "File sent:",
        "file_remove": "Remove this file",
        "file_replace": "Choose another file to replace it.",
        "search": "Search the options",
        "search_button": "Search",
        "search_hint": "Type part of a name to find it among the {n} options.",
        "search_found": "{shown} of {total} matching options:",
        "search_none": "No option matches.",
        "search_count": "{n} options, found with a search box.",
    },
    "fr": {
        "save": "Enregistrer le brouillon",
        "autosaved": "Brouillon enregistré.",
        "not_autosaved": (
            "Non enregistré : une réponse est trop longue ou hors limites. "
            "Cliquez sur Enregistrer le brouillon pour la voir."
        ),
        "submit": "Envoyer",
        "saved": "Vos réponses sont enregistrées. Vous pouvez revenir à ce lien pour terminer.",
        "submitted": "Merci : ce questionnaire a été envoyé le",
        "fix": "Veuillez vérifier ces réponses avant d'envoyer",
        "not_saved": "Rien n'a été enregistré : veuillez d'abord corriger ces réponses",
        "add": "Ajouter",
        "remove": "Supprimer",
        "required": "obligatoire",
        "no_answer": "Pas de réponse",
        "language": "Langue",
        "decline": "Nous ne pouvons pas répondre à ce questionnaire",
        "decline_reason": "Dites à l'équipe d'évaluation pourquoi (facultatif)",
        "locate": "Utiliser ma position",
        "page": "Page",
        "previous": "Précédent",
        "next": "Suivant",
        "file_sent": "Fichier envoyé :",
        "file_remove": "Supprimer ce fichier",
        "file_replace": "Choisissez un autre fichier pour le remplacer.",
        "search": "Chercher parmi les options",
        "search_button": "Chercher",
        "search_hint": "Tapez une partie d'un nom pour le trouver parmi les {n} options.",
        "search_found": "{shown} des {total} options trouvées :",
        "search_none": "Aucune option ne correspond.",
        "search_count": "{n} options, trouvées avec une boîte de recherche.",
    },
    "es": {
        "save": "Guardar borrador",
        "autosaved": "Borrador guardado.",
        "not_autosaved": (
            "No guardado: una respuesta es demasiado larga o está fuera de rango. Pulse Guardar borrador para verla."
        ),
        "submit": "Enviar",
        "saved": "Sus respuestas están guardadas. Puede volver a este enlace para terminar.",
        "submitted": "Gracias: este cuestionario se envió el",
        "fix": "Revise estas respuestas antes de enviar",
        "not_saved": "No se guardó nada: corrija primero estas respuestas",
        "add": "Añadir",
        "remove": "Quitar",
        "required": "obligatorio",
        "no_answer": "Sin respuesta",
        "language": "Idioma",
        "decline": "No podemos responder a este cuestionario",
        "decline_reason": "Explique al equipo de evaluación por qué (opcional)",
        "locate": "Usar mi ubicación",
        "page": "Página",
        "previous": "Anterior",
        "next": "Siguiente",
        "file_sent": "Archivo enviado:",
        "file_remove": "Quitar este archivo",
        "file_replace": "Elija otro archivo para reemplazarlo.",
        "search": "Buscar entre las opciones",
        "search_button": "Buscar",
        "search_hint": "Escriba parte de un nombre para encontrarlo entre las {n} opciones.",
        "search_found": "{shown} de {total} opciones encontradas:",
        "search_none": "Ninguna opción coincide.",
        "search_count": "{n} opciones, que se encuentran con un cuadro de búsqueda.",
    },
}


# The Markdown ODK Collect and Enketo render in labels and hints: emphasis, headings, links, line breaks. Raw HTML
# (ODK allows <span style=…>) is shown as text, never passed through; links go to http(s) or mailto only.
_MARKDOWN = MarkdownIt("zero", {"html": False, "breaks": True}).enable(
    ["emphasis", "link", "heading", "newline", "escape", "backticks"]
)
_HEADING = re.compile(r"^#{1,6}\s+")


def rich(text: str, block: bool = False) -> Markup:
    """A label or hint as safe HTML: ``block`` for a note (headings as headings, paragraphs), else one line fit
    for a ``<label>`` (a heading becomes bold)."""
    if block:
        html = _MARKDOWN.render(text)
    else:
        heading = _HEADING.match(text)
        html = _MARKDOWN.renderInline(text[heading.end() :] if heading else text)
        html = f"<strong>{html}</strong>" if heading else html
    return Markup(html.replace("<a href=", '<a target="_blank" rel="noopener noreferrer" href='))


def choose_language(definition: FormDefinition, wanted: str | None) -> str:
    """The form language matching ``wanted`` (a name like "Français (fr)" or a code like "fr"), else the default."""
    if wanted:
        for language in definition.languages:
            if wanted in (language, language_code(language)) or wanted.casefold() == language.casefold():
                return language
    return definition.default_language


@dataclass
class FormView:
    definition: FormDefinition
    language: str
    evaluation: engine.Evaluation
    editable: bool = True
    show_errors: bool = False
    today: dt.date | None = None
    searches: dict[str, str] = field(default_factory=dict)  # a long list's search box, by instance path
    options_url: str | None = None  # where a long list's box finds its options (the respondent's link)

    @property
    def title(self) -> str:
        return self.definition.title

    @property
    def languages(self) -> list[str]:
        return [
            lang
            for lang in self.definition.languages
            if lang != DEFAULT_LANGUAGE or len(self.definition.languages) == 1
        ]

    @staticmethod
    def language_code(language: str) -> str:
        return language_code(language)

    @staticmethod
    def language_name(language: str) -> str:
        code = language_code(language)
        return language.replace(f"({code})", "").strip() or language

    def text(self, key: str) -> str:
        return UI.get(language_code(self.language), UI["en"]).get(key) or UI["en"][key]

    def _values(self) -> dict[str, Any]:
        return {f.question.name: f.value for f in self.evaluation.fields.values() if "[" not in f.path}

    def label(self, q: Question) -> str:
        text = pick(q.labels, self.language) or q.name
        return expressions.interpolate(text, self._values()) if "${" in text else text

    def hint(self, q: Question) -> str:
        text = pick(q.hints, self.language) or ""
        return expressions.interpolate(text, self._values()) if "${" in text else text

    def choices(self, q: Question, node: engine.Node) -> list[tuple[Choice, bool]]:
        """Every option of a select with whether its ``choice_filter`` keeps it now; the page hides the others and
        its script shows them again when an answer changes (the server checks the answer either way)."""
        scope = node.field.scope if node.field is not None and node.field.scope is not None else {}
        visible = engine.visible_choices(self.definition, q, scope, self.today or dt.date.today())
        if q.answers_of:  # the options are earlier answers: the page shows them as they were when it was made
            return [(c, True) for c in visible]
        kept = {c.name for c in visible}
        return [(c, c.name in kept) for c in engine.choices_for(self.definition, q)]

    def is_long(self, q: Question) -> bool:
        """A select answered through a search box: see :mod:`lmreview.questionnaire.long_lists`."""
        return long_lists.is_long(self.definition, q)

    def picked(self, q: Question, value: str) -> list[Choice]:
        return long_lists.picked(self.definition, q, value)

    def options_count(self, q: Question) -> int:
        return len(engine.choices_for(self.definition, q))

    def found(self, q: Question, node: engine.Node) -> long_lists.Found | None:
        """The options matching what was typed in a long list's box, when the page comes back from a search
        without JavaScript; None when nothing was typed."""
        text = self.searches.get(node.path, "").strip()
        if not text:
            return None
        scope = node.field.scope if node.field is not None and node.field.scope is not None else {}
        allowed = (
            engine.visible_choices(self.definition, q, scope, self.today or dt.date.today())
            if q.choice_filter
            else None
        )
        value = node.field.value if node.field is not None else ""
        chosen = frozenset(c.name for c in self.picked(q, value))
        return long_lists.search(self.definition, q, text, self.language, allowed=allowed, leave_out=chosen)

    def pages(self) -> list[list[engine.Node]]:
        """The pages of a form with ``style: pages``: each top-level question, group (a ``field-list`` group keeps
        its questions together) or repeat is a page; calculations and metadata ride along unseen. One page when the
        form does not ask for pages."""
        nodes = self.evaluation.nodes
        if not self.definition.paged:
            return [nodes]
        pages: list[list[engine.Node]] = []
        for node in nodes:
            if (node.question.type == "calculate" or node.question.is_meta) and pages:
                pages[-1].append(node)
            else:
                pages.append([node])
        return pages or [nodes]

    def page_of(self, path: str) -> int:
        """The page (from 0) showing an instance path, for links to an error on another page."""
        top = path.split("/", 1)[0].split("[", 1)[0]
        for number, page in enumerate(self.pages()):
            if any(node.question.name == top for node in page):
                return number
        return 0

    def shown_pages(self) -> list[int]:
        """The pages with something relevant on them: the ones the Previous and Next buttons go to."""
        pages = self.pages()
        return [n for n, page in enumerate(pages) if any(node.relevant for node in page)] or [0]

    def browser_instances(self) -> dict[str, list[dict[str, str]]]:
        """The tables a ``relevant`` or ``choice_filter`` reads with pulldata() or instance('name'), for the page's
        script to evaluate them as the server does; none for most forms."""
        names: set[str] = set()
        for q in self.definition.walk():
            for text, bare in ((q.relevant, False), (q.choice_filter, True)):
                if text and ("pulldata(" in text or "instance(" in text):
                    for node in expressions.walk(expressions.parse(text, names=bare)):
                        if isinstance(node, expressions.Lookup):
                            names.add(node.instance)
                        elif isinstance(node, expressions.Call) and node.name == "pulldata" and node.args:
                            first = node.args[0]
                            if isinstance(first, expressions.Literal) and isinstance(first.value, str):
                                names.add(first.value)
        tables = self.definition.secondary_instances
        return {name: tables[name] for name in sorted(names) if name in tables}

    def outside_values(self, page: int) -> dict[str, Any]:
        """The answers of the questions on the other pages, by name (lists inside repeats), for the page's script:
        relevance and filters on this page may read them."""
        shown = {node.question.name for node in self.pages()[page]}
        values: dict[str, Any] = {}
        for path, item in self.evaluation.fields.items():
            if path.split("/", 1)[0].split("[", 1)[0] in shown:
                continue
            name = item.question.name
            if "[" in path:
                values.setdefault(name, []).append(item.value)
            else:
                values[name] = item.value
        return values

    @staticmethod
    def rich(text: str, block: bool = False) -> Markup:
        return rich(text, block)

    @staticmethod
    def input_type(q: Question, value: str) -> str:
        """The browser's time or datetime-local input when it can show the stored value (it drops any other, and
        the answer would be lost on the next save); plain text for a value with seconds' fractions or a zone."""
        if q.type == "time":
            return "time" if not value or re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value) else "text"
        return (
            "datetime-local" if not value or re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value) else "text"
        )

    @staticmethod
    def placeholder(q: Question) -> str:
        return {
            "time": "14:30",
            "datetime": "2024-05-01T14:30",
            "geopoint": "12.3714 -1.5197",
            "geotrace": "12.3714 -1.5197; 12.3720 -1.5190",
            "geoshape": "12.37 -1.52; 12.38 -1.52; 12.38 -1.51; 12.37 -1.52",
        }.get(q.type, "")

    @staticmethod
    def range(q: Question) -> form_types.RangeParameters:
        return form_types.range_parameters(q.parameters)

    @staticmethod
    def columns(choice: Choice) -> str:
        """The columns a ``choice_filter`` reads, as JSON for the page's script."""
        return json.dumps({**choice.filters, "name": choice.name}, ensure_ascii=False)

    def choice_label(self, choice: Choice) -> str:
        return pick(choice.labels, self.language) or choice.name

    def labels_by_path(self) -> dict[str, str]:
        """Every question's label by instance path, and each repeat's (a repeat_count over the limit is its error)."""
        labels = {path: self.label(f.question) for path, f in self.evaluation.fields.items()}
        stack = list(self.evaluation.nodes)
        while stack:
            node = stack.pop()
            if node.question.type == "repeat":
                labels[node.path] = self.label(node.question)
            stack.extend(node.children)
            stack.extend(child for instance in node.instances for child in instance.children)
        return labels
