"""The texts of the system prompts, per language: what a fresh install says without any recording of its own.

Pure data. `scripts/render_prompts` renders every entry with espeak-ng into
`voice/prompts/<language>/<name>.wav`, and a chat channel can show the same text. Every language has the same
names, so a flow that plays `closed` works in each of them.

The numbers `say.py` composes are prompts too (the scheme is in `say.py`):

- `n-0` ... `n-99`: the number said on its own ("twenty-one", "veintiuno", "двадцать один");
- `n-1-noun`, `n-2-noun`, `n-21-noun` ... `n-92-noun`: the form before a noun, where the grammar differs
  (Spanish "un", "veintiún" before a masculine noun and before "mil"; Russian "одна", "две" before a feminine
  noun: "минута", "секунда", "тысяча"); the same words as `n-K` in English;
- `n-100` ... `n-900`: a whole hundred ("one hundred", "cien", "сто"), and `n-1xx`, the hundred that more
  follows ("ciento" in Spanish);
- `thousand-one`, `thousand-few`, `thousand-many` and the units `minute-*`, `second-*` in the plural category
  their count asks for (Russian "тысяча / тысячи / тысяч"; English and Spanish use only one and many).

A prompt said in several languages at once (`choose-language`) is in `MULTILINGUAL`: each part is rendered in
its own language's voice.
"""

# ruff: noqa: RUF001, SIM905 - Russian is Cyrillic on purpose; word lists read best as one string
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["LANGUAGES", "MULTILINGUAL", "SYSTEM_PROMPTS", "VOICES", "segments"]

LANGUAGES = ("en", "es", "ru")
VOICES: Mapping[str, str] = MappingProxyType({"en": "en-us", "es": "es", "ru": "ru"})  # espeak-ng voices

# --- Numbers -----------------------------------------------------------------------------------------------

_EN_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

_ES_UNITS = (
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis "
    "diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro veinticinco "
    "veintiséis veintisiete veintiocho veintinueve"
).split()
_ES_TENS = "_ _ veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa".split()
_ES_HUNDREDS = "_ cien doscientos trescientos cuatrocientos quinientos seiscientos setecientos ochocientos novecientos"

_RU_UNITS = (
    "ноль один два три четыре пять шесть семь восемь девять десять одиннадцать двенадцать тринадцать "
    "четырнадцать пятнадцать шестнадцать семнадцать восемнадцать девятнадцать"
).split()
_RU_TENS = "_ _ двадцать тридцать сорок пятьдесят шестьдесят семьдесят восемьдесят девяносто".split()
_RU_HUNDREDS = "_ сто двести триста четыреста пятьсот шестьсот семьсот восемьсот девятьсот"

NOUN_FORMS = tuple(k for k in range(1, 100) if k % 10 in (1, 2) and k // 10 != 1)  # 1, 2, 21, 22, ... 92


def _en(k: int) -> str:
    if k < 20:
        return _EN_UNITS[k]
    tens, ones = divmod(k, 10)
    return _EN_TENS[tens] + (f"-{_EN_UNITS[ones]}" if ones else "")


def _es(k: int, noun: bool = False) -> str:
    if noun and k % 10 == 1 and k != 11:
        return {1: "un", 21: "veintiún"}.get(k) or f"{_ES_TENS[k // 10]} y un"
    if k < 30:
        return _ES_UNITS[k]
    tens, ones = divmod(k, 10)
    return _ES_TENS[tens] + (f" y {_ES_UNITS[ones]}" if ones else "")


def _ru(k: int, noun: bool = False) -> str:
    units = _RU_UNITS
    if noun:
        units = [*units[:1], "одна", "две", *units[3:]]
    if k < 20:
        return units[k]
    tens, ones = divmod(k, 10)
    return _RU_TENS[tens] + (f" {units[ones]}" if ones else "")


def _numbers(language: str) -> dict[str, str]:
    said = {"en": _en, "es": _es, "ru": _ru}[language]
    texts = {f"n-{k}": said(k) for k in range(100)}
    if language == "en":
        texts |= {f"n-{k}-noun": said(k) for k in NOUN_FORMS}
        hundreds = [f"{_EN_UNITS[h]} hundred" for h in range(10)]
    else:
        noun_said = _es if language == "es" else _ru
        texts |= {f"n-{k}-noun": noun_said(k, True) for k in NOUN_FORMS}
        hundreds = (_ES_HUNDREDS if language == "es" else _RU_HUNDREDS).split()
    texts |= {f"n-{h}00": hundreds[h] for h in range(1, 10)}
    texts["n-1xx"] = {"en": "one hundred", "es": "ciento", "ru": "сто"}[language]
    return texts


_COUNTED = {
    "en": {
        "thousand-one": "thousand",
        "thousand-few": "thousand",
        "thousand-many": "thousand",
        "minute-one": "minute",
        "minute-few": "minutes",
        "minute-many": "minutes",
        "second-one": "second",
        "second-few": "seconds",
        "second-many": "seconds",
    },
    "es": {
        "thousand-one": "mil",
        "thousand-few": "mil",
        "thousand-many": "mil",
        "minute-one": "minuto",
        "minute-few": "minutos",
        "minute-many": "minutos",
        "second-one": "segundo",
        "second-few": "segundos",
        "second-many": "segundos",
    },
    "ru": {
        "thousand-one": "тысяча",
        "thousand-few": "тысячи",
        "thousand-many": "тысяч",
        "minute-one": "минута",
        "minute-few": "минуты",
        "minute-many": "минут",
        "second-one": "секунда",
        "second-few": "секунды",
        "second-many": "секунд",
    },
}

# --- Phrases -------------------------------------------------------------------------------------------------

MULTILINGUAL: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "choose-language": (
            ("en", "For English, press 1."),
            ("es", "Para español, pulse 2."),
            ("ru", "Для русского языка нажмите 3."),
        ),
    }
)

# name: (English, Spanish, Russian)
_PHRASES: dict[str, tuple[str, str, str]] = {
    # Greeting and menus
    "welcome": (
        "Hello, and thank you for calling.",
        "Hola, gracias por su llamada.",
        "Здравствуйте! Спасибо за ваш звонок.",
    ),
    "main-menu": (
        "For sales, press 1. For support, press 2. For billing, press 3.",
        "Para ventas, pulse 1. Para soporte técnico, pulse 2. Para facturación, pulse 3.",
        "Отдел продаж — нажмите 1. Техническая поддержка — нажмите 2. Оплата и счета — нажмите 3.",
    ),
    "menu-repeat": (
        "To hear these options again, press star.",
        "Para volver a escuchar estas opciones, pulse asterisco.",
        "Чтобы прослушать меню ещё раз, нажмите звёздочку.",
    ),
    "operator": (
        "To speak to an agent, press 0.",
        "Para hablar con un agente, pulse 0.",
        "Чтобы поговорить с оператором, нажмите 0.",
    ),
    "invalid": (
        "Sorry, that is not a valid option.",
        "Lo sentimos, esa opción no es válida.",
        "Извините, такого варианта нет.",
    ),
    "no-input": (
        "Sorry, we did not receive your selection.",
        "Lo sentimos, no hemos recibido ninguna respuesta.",
        "Извините, мы не получили ваш ответ.",
    ),
    "try-again": (
        "Please try again.",
        "Por favor, inténtelo de nuevo.",
        "Пожалуйста, попробуйте ещё раз.",
    ),
    "please-wait": (
        "One moment, please.",
        "Un momento, por favor.",
        "Одну минуту, пожалуйста.",
    ),
    "thank-you": ("Thank you.", "Gracias.", "Спасибо."),
    "goodbye": (
        "Thank you for calling. Goodbye.",
        "Gracias por su llamada. Hasta luego.",
        "Спасибо за звонок. До свидания.",
    ),
    "recording-notice": (
        "This call may be recorded for quality and training purposes.",
        "Esta llamada puede ser grabada con fines de calidad y formación.",
        "Разговор может быть записан для контроля качества обслуживания.",
    ),
    "technical-problem": (
        "Sorry, we are having technical difficulties. Please call again later.",
        "Lo sentimos, estamos teniendo problemas técnicos. Por favor, vuelva a llamar más tarde.",
        "Извините, у нас технические неполадки. Пожалуйста, перезвоните позже.",
    ),
    # Hours
    "closed": (
        "We are closed right now. Please call again during our business hours.",
        "En este momento estamos cerrados. Por favor, llámenos dentro de nuestro horario de atención.",
        "Сейчас мы не работаем. Пожалуйста, позвоните нам в рабочее время.",
    ),
    "holiday": (
        "We are closed today for a holiday. Please call again on the next working day.",
        "Hoy estamos cerrados por festivo. Por favor, llámenos el próximo día laborable.",
        "Сегодня праздничный день, и мы не работаем. Пожалуйста, позвоните в следующий рабочий день.",
    ),
    "emergency-closed": (
        "Due to unforeseen circumstances we are closed at the moment. We apologise for the inconvenience.",
        "Por circunstancias imprevistas, en este momento estamos cerrados. Disculpe las molestias.",
        "По непредвиденным обстоятельствам мы сейчас не работаем. Приносим извинения за неудобства.",
    ),
    # Connecting and waiting
    "connecting": (
        "Please hold while we connect you to an agent.",
        "Un momento, por favor. Le pasamos con un agente.",
        "Пожалуйста, подождите, соединяем вас с оператором.",
    ),
    "transferring": (
        "Please hold while we transfer your call.",
        "Un momento, por favor. Estamos transfiriendo su llamada.",
        "Пожалуйста, подождите, переводим ваш звонок.",
    ),
    "hold-on": (
        "Please stay on the line.",
        "Por favor, no cuelgue.",
        "Пожалуйста, оставайтесь на линии.",
    ),
    "all-busy": (
        "All our agents are busy at the moment.",
        "En este momento todos nuestros agentes están ocupados.",
        "Сейчас все операторы заняты.",
    ),
    "call-important": (
        "Your call is important to us. An agent will be with you shortly.",
        "Su llamada es muy importante para nosotros. Enseguida le atenderá un agente.",
        "Ваш звонок очень важен для нас. Оператор ответит вам в ближайшее время.",
    ),
    "thank-you-waiting": (
        "Thank you for waiting.",
        "Gracias por su paciencia.",
        "Спасибо за ожидание.",
    ),
    "you-are-number": ("You are number", "Usted es el número", "Вы под номером"),
    "in-line": ("in line.", "en la cola.", "в очереди."),
    "expected-wait": (
        "The expected wait is about",
        "El tiempo de espera aproximado es de",
        "Примерное время ожидания:",
    ),
    "less-than-a-minute": (
        "The expected wait is less than a minute.",
        "El tiempo de espera es inferior a un minuto.",
        "Время ожидания — меньше минуты.",
    ),
    "no-agent": (
        "Sorry, no agent is available right now. Please call again later.",
        "Lo sentimos, ahora mismo no hay ningún agente disponible. Por favor, vuelva a llamar más tarde.",
        "К сожалению, сейчас нет свободных операторов. Пожалуйста, перезвоните позже.",
    ),
    "queue-full": (
        "All our lines are busy. Please call again later.",
        "Todas nuestras líneas están ocupadas. Por favor, vuelva a llamar más tarde.",
        "Все линии заняты. Пожалуйста, перезвоните позже.",
    ),
    # Callback
    "callback-offer": (
        "To be called back without losing your place in line, press 1.",
        "Si prefiere que le llamemos sin perder su turno, pulse 1.",
        "Чтобы мы перезвонили вам без потери места в очереди, нажмите 1.",
    ),
    "callback-confirm": (
        "We will call you back on the number you are calling from. Press 1 to confirm, or 2 to enter another number.",
        "Le llamaremos al número desde el que nos llama. Pulse 1 para confirmar, o 2 para indicar otro número.",
        "Мы перезвоним на номер, с которого вы звоните. Нажмите 1, чтобы подтвердить, или 2, чтобы ввести "
        "другой номер.",
    ),
    "callback-enter": (
        "Please enter your phone number, followed by the hash key.",
        "Marque su número de teléfono, seguido de la tecla almohadilla.",
        "Пожалуйста, введите номер телефона и нажмите решётку.",
    ),
    "you-entered": ("You entered", "Ha marcado el", "Вы ввели номер"),
    "confirm-or-retry": (
        "Press 1 to confirm, or 2 to try again.",
        "Pulse 1 para confirmar, o 2 para volver a intentarlo.",
        "Нажмите 1, чтобы подтвердить, или 2, чтобы попробовать ещё раз.",
    ),
    "callback-invalid": (
        "Sorry, that number is not valid.",
        "Lo sentimos, ese número no es válido.",
        "Извините, номер набран неверно.",
    ),
    "callback-registered": (
        "Thank you. We will call you back as soon as an agent is available. Goodbye.",
        "Gracias. Le llamaremos en cuanto haya un agente disponible. Hasta luego.",
        "Спасибо. Мы перезвоним вам, как только освободится оператор. До свидания.",
    ),
    "callback-failed": (
        "Sorry, we could not register your callback request.",
        "Lo sentimos, no hemos podido registrar su solicitud de llamada.",
        "Извините, не удалось оформить обратный звонок.",
    ),
    # Voicemail
    "leave-message": (
        "Please leave a message after the tone. When you have finished, hang up or press the hash key.",
        "Por favor, deje su mensaje después de la señal. Cuando termine, cuelgue o pulse la tecla almohadilla.",
        "Пожалуйста, оставьте сообщение после сигнала. Когда закончите, положите трубку или нажмите решётку.",
    ),
    "message-saved": (
        "Thank you. Your message has been saved. Goodbye.",
        "Gracias. Hemos guardado su mensaje. Hasta luego.",
        "Спасибо, ваше сообщение сохранено. До свидания.",
    ),
    "no-message": (
        "We did not receive a message.",
        "No hemos recibido ningún mensaje.",
        "Мы не получили ваше сообщение.",
    ),
    # Surveys
    "survey-intro": (
        "Please stay on the line to rate the service you received.",
        "Por favor, permanezca en línea para valorar la atención recibida.",
        "Пожалуйста, оставайтесь на линии, чтобы оценить качество обслуживания.",
    ),
    "survey-rate": (
        "On a scale from 1 to 5, where 5 is excellent, how satisfied are you? Press a key from 1 to 5.",
        "Del 1 al 5, donde 5 es excelente, ¿cómo valora la atención recibida? Pulse una tecla del 1 al 5.",
        "Оцените, пожалуйста, наше обслуживание от одного до пяти, где пять — отлично. Нажмите цифру от одного "
        "до пяти.",
    ),
    "survey-thanks": (
        "Thank you for your feedback. Goodbye.",
        "Gracias por su opinión. Hasta luego.",
        "Спасибо за вашу оценку. До свидания.",
    ),
}


def _texts(language: str) -> Mapping[str, str]:
    column = LANGUAGES.index(language)
    texts = _numbers(language) | _COUNTED[language]
    texts |= {name: phrase[column] for name, phrase in _PHRASES.items()}
    texts |= {name: " ".join(text for _, text in parts) for name, parts in MULTILINGUAL.items()}
    return MappingProxyType(texts)


SYSTEM_PROMPTS: Mapping[str, Mapping[str, str]] = MappingProxyType({lang: _texts(lang) for lang in LANGUAGES})
SYSTEM_PROMPT_NAMES = frozenset(name for texts in SYSTEM_PROMPTS.values() for name in texts)


def segments(name: str, language: str) -> tuple[tuple[str, str], ...]:
    """What to render for one prompt: (language of the voice, text) parts, in order."""
    if name in MULTILINGUAL:
        return MULTILINGUAL[name]
    return ((language, SYSTEM_PROMPTS[language][name]),)
