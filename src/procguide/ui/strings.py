"""Every fixed string procguide shows people, in English and Welsh, and `t()` to fetch one.
Used by the UI for its labels, and by the server for the fixed phrases of answers, notices and
exports.

Gradio's own `gr.I18n` is not used: it picks the language from the browser alone (from Gradio's
built-in locales, which do not include Welsh) and translates only static text in the page, so it
could neither offer Welsh from a switch in the app nor reach text built on the server.

The strings are plain text with `str.format` placeholders ("Answered for: {summary}."): no
Markdown or HTML, so they can be escaped like any other text; values are filled in as given and
must be escaped by whoever renders the result. Welsh follows the terms the project already uses
(knowledge/vocabulary.yaml, welsh.py): caffael, comisiynwyr, mentrau cymdeithasol, cwmnïau
cydfuddiannol, cydweithfeydd, contract a gedwir, y Ddeddf Caffael 2023, Rheoliadau Contractau
Cyhoeddus 2015, y Drefn Dewis Darparwyr. Legal names with an official Welsh form use it.
"""

from __future__ import annotations

from datetime import date, datetime
from string import Formatter

# The answer's own lines, whose English render.py uses for the terminal and the API.
from procguide.answer.render import ANSWERED_FOR, DISCLAIMER, HOW_TO_CHANGE

LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT_LANGUAGE = "en"

# Keys whose Welsh is rightly the same as their English: proper names only.
SAME_IN_BOTH = frozenset({"app.title"})

STRINGS: dict[str, dict[str, str]] = {
    # The page ------------------------------------------------------------------------------
    "app.title": {"en": "procguide", "cy": "procguide"},
    "app.intro": {
        "en": "Ask how procurement law lets you commission health and social care with social "
              "enterprises, co-operatives, mutuals, staff spin-outs and user-led organisations. "
              "Every answer cites the provisions it rests on.",
        "cy": "Gofynnwch sut mae cyfraith caffael yn caniatáu i chi gomisiynu gofal iechyd a "
              "gofal cymdeithasol gyda mentrau cymdeithasol, cydweithfeydd, cwmnïau "
              "cydfuddiannol, cwmnïau deillio staff a sefydliadau dan arweiniad defnyddwyr. Mae "
              "pob ateb yn nodi'r darpariaethau y mae'n dibynnu arnynt.",
    },
    "app.disclaimer": {
        "en": DISCLAIMER,
        "cy": "Mae procguide yn rhoi canllawiau sy'n seiliedig ar ei gronfa wybodaeth, nid cyngor "
              "cyfreithiol. Gwiriwch y darpariaethau a ddyfynnir, a cheisiwch gyngor cyfreithiol "
              "ar benderfyniadau sy'n dibynnu arnynt.",
    },
    # The opening panel: what procguide covers --------------------------------------------------
    "about.heading": {"en": "What procguide covers", "cy": "Beth mae procguide yn ei gynnwys"},
    "about.who": {
        "en": "procguide is for commissioners in councils, health boards and other public bodies "
              "that buy health and social care services.",
        "cy": "Mae procguide ar gyfer comisiynwyr mewn cynghorau, byrddau iechyd a chyrff "
              "cyhoeddus eraill sy'n prynu gwasanaethau iechyd a gofal cymdeithasol.",
    },
    "about.what": {
        "en": "It explains how procurement law lets you commission from social enterprises, "
              "co-operatives, mutuals, staff spin-outs and user-led organisations: reserved "
              "contracts, the light-touch rules, market engagement, lots, award criteria and the "
              "Provider Selection Regime.",
        "cy": "Mae'n esbonio sut mae cyfraith caffael yn caniatáu i chi gomisiynu gan fentrau "
              "cymdeithasol, cydweithfeydd, cwmnïau cydfuddiannol, cwmnïau deillio staff a "
              "sefydliadau dan arweiniad defnyddwyr: contractau a gedwir, y rheolau cyffyrddiad "
              "ysgafn, ymgysylltu â'r farchnad, lotiau, meini prawf dyfarnu a'r Drefn Dewis "
              "Darparwyr.",
    },
    "about.law": {
        "en": "It holds the Procurement Act 2023; the Public Contracts Regulations 2015, for "
              "procurements started before 24 February 2025; the Provider Selection Regime for "
              "health services, in England and in Wales; the Public Services (Social Value) Act "
              "2012; the Welsh duties in the Social Services and Well-being (Wales) Act 2014 and "
              "the Social Partnership and Public Procurement (Wales) Act 2023; and, as background, "
              "the EU procurement Directive 2014/24/EU.",
        "cy": "Mae'n cynnwys y Ddeddf Caffael 2023; Rheoliadau Contractau Cyhoeddus 2015, ar gyfer "
              "caffael a ddechreuodd cyn 24 Chwefror 2025; y Drefn Dewis Darparwyr ar gyfer "
              "gwasanaethau iechyd, yng Nghymru ac yn Lloegr; Deddf Gwasanaethau Cyhoeddus (Gwerth "
              "Cymdeithasol) 2012; y dyletswyddau Cymreig yn Neddf Gwasanaethau Cymdeithasol a "
              "Llesiant (Cymru) 2014 a Deddf Partneriaeth Gymdeithasol a Chaffael Cyhoeddus "
              "(Cymru) 2023; ac, fel cefndir, Cyfarwyddeb caffael yr UE 2014/24/UE.",
    },
    "about.reports": {
        "en": "It also holds reports on social business models in health and social care by The "
              "King's Fund and the Public Policy Institute for Wales.",
        "cy": "Mae hefyd yn cynnwys adroddiadau ar fodelau busnes cymdeithasol ym maes iechyd a "
              "gofal cymdeithasol gan The King's Fund a Sefydliad Polisi Cyhoeddus Cymru.",
    },
    "about.limits": {
        "en": "It does not cover Scotland's procurement rules, and it is not legal advice.",
        "cy": "Nid yw'n ymdrin â rheolau caffael yr Alban, ac nid yw'n gyngor cyfreithiol.",
    },
    "about.how": {
        "en": "Ask in English or Welsh. Every answer quotes the provisions it rests on and links "
              "to their official text. The sources are in English, so answers are given in "
              "English.",
        "cy": "Gofynnwch yn Saesneg neu yn Gymraeg. Mae pob ateb yn dyfynnu'r darpariaethau y "
              "mae'n dibynnu arnynt ac yn cysylltu â'u testun swyddogol. Mae'r ffynonellau yn "
              "Saesneg, felly rhoddir atebion yn Saesneg.",
    },
    # Settings: language, nation, start date ----------------------------------------------------
    "language.label": {"en": "Language", "cy": "Iaith"},
    "nation.label": {"en": "Your nation", "cy": "Eich gwlad"},
    "nation.info": {
        "en": "Which law governs you depends on where you are",
        "cy": "Mae'r gyfraith sy'n berthnasol i chi yn dibynnu ar ble rydych chi",
    },
    "nation.choice.auto": {"en": "Work it out from my question", "cy": "Ei chasglu o'm cwestiwn"},
    "nation.choice.wales": {"en": "Wales", "cy": "Cymru"},
    "nation.choice.england": {"en": "England", "cy": "Lloegr"},
    "nation.choice.northern_ireland": {"en": "Northern Ireland", "cy": "Gogledd Iwerddon"},
    "nation.choice.scotland": {"en": "Scotland", "cy": "Yr Alban"},
    "nation.choice.eu": {"en": "An EU Member State", "cy": "Aelod-wladwriaeth o'r UE"},
    "start.label": {"en": "When the procurement started", "cy": "Pryd y dechreuodd y caffael"},
    "start.info": {
        "en": "Procurements started before 24 February 2025 stay under PCR 2015",
        "cy": "Mae caffael a ddechreuodd cyn 24 Chwefror 2025 yn parhau o dan Reoliadau "
              "Contractau Cyhoeddus 2015",
    },
    "start.choice.today": {"en": "Today (the default)", "cy": "Heddiw (y rhagosodiad)"},
    "start.choice.on_or_after": {
        "en": "On or after 24 February 2025",
        "cy": "Ar 24 Chwefror 2025 neu wedi hynny",
    },
    "start.choice.before": {"en": "Before 24 February 2025", "cy": "Cyn 24 Chwefror 2025"},
    # The chat ----------------------------------------------------------------------------------
    "chat.label": {"en": "Conversation", "cy": "Sgwrs"},
    "chat.tab": {"en": "Ask procguide", "cy": "Gofyn i procguide"},
    "question.label": {"en": "Your question", "cy": "Eich cwestiwn"},
    "question.placeholder": {
        "en": "Ask about reserved contracts, the light-touch regime ...",
        "cy": "Gofynnwch am gontractau a gedwir, y drefn cyffyrddiad ysgafn ...",
    },
    "examples.heading": {"en": "Example questions", "cy": "Enghreifftiau o gwestiynau"},
    "example.1": {
        "en": "We're a Welsh council re-tendering home care. Can we ring-fence it for the staff "
              "mutual, and for how long?",
        "cy": "Rydyn ni'n gyngor sir yng Nghymru sy'n aildendro gofal cartref. Allwn ni ei "
              "glustnodi ar gyfer cwmni cydfuddiannol y staff, ac am ba hyd?",
    },
    "example.2": {
        "en": "ICB re-commissioning community podiatry from April 2026: which rules apply?",
        "cy": "Bwrdd gofal integredig yn ailgomisiynu podiatreg gymunedol o fis Ebrill 2026: pa "
              "reolau sy'n berthnasol?",
    },
    "example.3": {
        "en": "Our tender went out in November 2024. How long can a contract reserved for a "
              "mutual last?",
        "cy": "Aeth ein tendr allan ym mis Tachwedd 2024. Am ba hyd y gall contract a gedwir ar "
              "gyfer cwmni cydfuddiannol bara?",
    },
    "example.4": {
        "en": "Can we talk to social enterprises before we advertise the contract?",
        "cy": "Allwn ni siarad â mentrau cymdeithasol cyn i ni hysbysebu'r contract?",
    },
    "example.5": {
        "en": "What is a reserved contract, and how long can it last?",
        "cy": "Beth yw contract a gedwir, ac am faint y gall bara?",
    },
    "example.6": {
        "en": "What did the PPIW recommend to grow social business models in Wales?",
        "cy": "Beth oedd argymhellion Sefydliad Polisi Cyhoeddus Cymru ar gyfer tyfu modelau "
              "busnes cymdeithasol yng Nghymru?",
    },
    "glossary.heading": {
        "en": "Words procguide understands (glossary)",
        "cy": "Geiriau y mae procguide yn eu deall (geirfa)",
    },
    "glossary.col_terms": {"en": "You can say", "cy": "Gallwch ddweud"},
    "glossary.col_welsh": {"en": "Or in Welsh", "cy": "Neu yn Gymraeg"},
    "glossary.col_reads": {"en": "procguide reads it as", "cy": "Mae procguide yn ei ddeall fel"},
    # Errors ------------------------------------------------------------------------------------
    "error.rejected": {
        "en": "I can't take that question as it is.",
        "cy": "Ni allaf dderbyn y cwestiwn hwnnw fel y mae.",
    },
    "error.internal": {
        "en": "Something went wrong while answering; please try again. "
              "(The details are in the server log.)",
        "cy": "Aeth rhywbeth o'i le wrth ateb; rhowch gynnig arall arni. "
              "(Mae'r manylion yng nghofnod y gweinydd.)",
    },
    "error.llm_unreachable": {
        "en": "The language model could not be reached.",
        "cy": "Nid oedd modd cysylltu â'r model iaith.",
    },
    "error.llm_hint": {
        "en": "Ask the administrator to check {setting}, or try again later.",
        "cy": "Gofynnwch i'r gweinyddwr wirio {setting}. Fel arall, rhowch gynnig arall arni yn "
              "nes ymlaen.",
    },
    # An answer's fixed phrases -----------------------------------------------------------------
    "answer.sources": {"en": "Sources", "cy": "Ffynonellau"},
    "answer.note": {"en": "Note:", "cy": "Nodyn:"},
    "answer.superseded": {"en": "Superseded", "cy": "Disodlwyd"},
    "answer.superseded_by": {"en": "Superseded by {name}", "cy": "Disodlwyd gan {name}"},
    "answer.superseded_by_from": {
        "en": "Superseded by {name} from {date}",
        "cy": "Disodlwyd gan {name} o {date} ymlaen",
    },
    "answer.local_label": {"en": "your organisation's document", "cy": "dogfen eich sefydliad"},
    "answer.not_law": {
        "en": "Your organisation's own document, not law; it is not linked.",
        "cy": "Dogfen eich sefydliad eich hun, nid cyfraith; nid oes dolen iddi.",
    },
    "answer.suggestions": {"en": "You could ask instead", "cy": "Gallech ofyn yn lle hynny"},
    "answer.in_english": {
        "en": "This answer is in English because its sources are in English.",
        "cy": "Mae'r ateb hwn yn Saesneg am fod y ffynonellau yn Saesneg.",
    },
    # The assumed-context line under an answer ---------------------------------------------------
    "context.answered_for": {
        "en": ANSWERED_FOR,
        "cy": "Atebwyd ar gyfer: {summary}.",
    },
    "context.how_to_change": {
        "en": HOW_TO_CHANGE,
        "cy": "Os nad dyna'ch sefyllfa, dywedwch hynny neu newidiwch y wlad neu'r dyddiad dechrau.",
    },
    "context.change": {"en": "change", "cy": "newid"},
    "context.change_label": {
        "en": "Change the nation or start date",
        "cy": "Newid y wlad neu'r dyddiad dechrau",
    },
    # Notices (the annotate stage and the LLM answerer) ----------------------------------------
    "notice.injection": {
        "en": "Part of your question read as an instruction to the assistant. Questions are "
              "treated as text to look up, never as instructions, so that part was ignored.",
        "cy": "Roedd rhan o'ch cwestiwn yn darllen fel cyfarwyddyd i'r cynorthwyydd. Caiff "
              "cwestiynau eu trin fel testun i chwilio amdano, byth fel cyfarwyddiadau, felly "
              "anwybyddwyd y rhan honno.",
    },
    "notice.directive": {
        "en": "Directive 2014/24/EU binds EU Member States. It no longer binds UK bodies: it "
              "stopped applying to the UK when the Brexit transition period ended on 31 December "
              "2020.",
        "cy": "Mae Cyfarwyddeb 2014/24/UE yn rhwymo Aelod-wladwriaethau'r UE. Nid yw bellach yn "
              "rhwymo cyrff yn y DU: peidiodd â bod yn gymwys i'r DU pan ddaeth cyfnod pontio "
              "Brexit i ben ar 31 Rhagfyr 2020.",
    },
    "notice.superseded_before": {
        "en": "{name} governs only procurements started before {date}; for procurements started "
              "on or after that date, see the {new_name}.",
        "cy": "Mae {name} yn gymwys i gaffael a ddechreuodd cyn {date} yn unig; ar gyfer caffael "
              "a ddechreuodd ar y dyddiad hwnnw neu wedi hynny, gweler {new_name}.",
    },
    "notice.superseded": {
        "en": "{name} has been superseded by the {new_name}; check which applies to your "
              "procurement.",
        "cy": "Mae {new_name} wedi disodli {name}; gwiriwch pa un sy'n berthnasol i'ch caffael.",
    },
    "notice.disagree": {
        "en": "The sources disagree: your organisation's document {local} says something "
              "different from {law}. The law governs; check your document against it.",
        "cy": "Mae'r ffynonellau'n anghytuno: mae dogfen eich sefydliad {local} yn dweud "
              "rhywbeth gwahanol i {law}. Y gyfraith sy'n drech; gwiriwch eich dogfen yn ei "
              "herbyn.",
    },
    "notice.llm_timeout": {
        "en": "The language model took too long to answer, so this answer was quoted from the "
              "sources by the built-in answerer instead.",
        "cy": "Cymerodd y model iaith ormod o amser i ateb, felly dyfynnwyd yr ateb hwn o'r "
              "ffynonellau gan atebydd adeiledig procguide yn lle hynny.",
    },
    "notice.llm_unchecked": {
        "en": "The language model's answer could not be checked against the sources, so this "
              "answer was quoted from them by the built-in answerer instead.",
        "cy": "Nid oedd modd gwirio ateb y model iaith yn erbyn y ffynonellau, felly dyfynnwyd yr "
              "ateb hwn ohonynt gan atebydd adeiledig procguide yn lle hynny.",
    },
    "notice.llm_failed": {
        "en": "The language model at {url} could not be used ({error}), so this answer was quoted "
              "from the sources by the built-in answerer instead.",
        "cy": "Nid oedd modd defnyddio'r model iaith yn {url} ({error}), felly dyfynnwyd yr ateb "
              "hwn o'r ffynonellau gan atebydd adeiledig procguide yn lle hynny.",
    },
    "notice.llm_cut": {
        "en": "The language model took too long, so its answer stops here; what is shown was "
              "checked.",
        "cy": "Cymerodd y model iaith ormod o amser, felly mae ei ateb yn dod i ben yma; cafodd "
              "yr hyn a ddangosir ei wirio.",
    },
    "notice.llm_withheld_one": {
        "en": "{n} statement was withheld from this answer because the passages cited do not "
              "support it.",
        "cy": "Cafodd {n} datganiad ei atal o'r ateb hwn am nad yw'r darnau a ddyfynnwyd yn ei "
              "gefnogi.",
    },
    "notice.llm_withheld_many": {
        "en": "{n} statements were withheld from this answer because the passages cited do not "
              "support them.",
        "cy": "Cafodd {n} datganiad eu hatal o'r ateb hwn am nad yw'r darnau a ddyfynnwyd yn eu "
              "cefnogi.",
    },
    "notice.llm_limit": {
        "en": "The language model's answer was cut at {n} sentences ({setting}).",
        "cy": "Cafodd ateb y model iaith ei dorri ar ôl {n} brawddeg ({setting}).",
    },
    # Declining to answer (answer/abstain.py) ---------------------------------------------------
    "decline.not_covered": {
        "en": "I can't answer that from the knowledge base: none of its passages deals with your "
              "question closely enough to quote with confidence.",
        "cy": "Ni allaf ateb hynny o'r gronfa wybodaeth: nid oes yr un o'i darnau yn ymdrin â'ch "
              "cwestiwn yn ddigon agos i mi allu dyfynnu ohono'n hyderus.",
    },
    "decline.only_questions": {
        "en": "I answer questions about public procurement from the knowledge base, and follow no "
              "other instructions. Ask a question, for example: 'Can we reserve a contract for a "
              "mutual?'",
        "cy": "Rwy'n ateb cwestiynau am gaffael cyhoeddus o'r gronfa wybodaeth, ac nid wyf yn "
              "dilyn unrhyw gyfarwyddiadau eraill. Gofynnwch gwestiwn, er enghraifft: 'Allwn ni "
              "gadw contract ar gyfer cwmni cydfuddiannol?'",
    },
    "decline.empty_index": {
        "en": "The knowledge base is empty, so there is nothing to answer from. Run “procguide "
              "ingest” (or “make run”) to build it.",
        "cy": "Mae'r gronfa wybodaeth yn wag, felly nid oes dim i ateb ohono. Rhedwch “procguide "
              "ingest” (neu “make run”) i'w hadeiladu.",
    },
    "decline.nothing_in_scope": {
        "en": "I can't answer that from the knowledge base: none of its passages falls within the "
              "jurisdiction you chose. Choose another jurisdiction, or 'All', and ask again.",
        "cy": "Ni allaf ateb hynny o'r gronfa wybodaeth: nid oes yr un o'i darnau yn perthyn i'r "
              "awdurdodaeth a ddewisoch. Dewiswch awdurdodaeth arall, neu 'Pob un', a gofynnwch "
              "eto.",
    },
    "decline.scotland": {
        "en": "I can't answer that for Scotland: procguide does not hold Scotland's procurement "
              "rules (the Procurement Reform (Scotland) Act 2014 and the Public Contracts "
              "(Scotland) Regulations 2015), which govern devolved Scottish bodies. It covers "
              "England, Wales and Northern Ireland.",
        "cy": "Ni allaf ateb hynny ar gyfer yr Alban: nid yw procguide yn cynnwys rheolau caffael "
              "yr Alban (y Procurement Reform (Scotland) Act 2014 a'r Public Contracts (Scotland) "
              "Regulations 2015), sy'n llywodraethu cyrff datganoledig yn yr Alban. Mae'n ymdrin "
              "â Chymru, Lloegr a Gogledd Iwerddon.",
    },
    "decline.out_of_scope": {
        "en": "I can't answer that from the knowledge base: it does not cover {what}. procguide "
              "covers the procurement rules for commissioning health and social care with social "
              "business models.",
        "cy": "Ni allaf ateb hynny o'r gronfa wybodaeth: nid yw'n ymdrin â {what}. Mae procguide "
              "yn ymdrin â'r rheolau caffael ar gyfer comisiynu gofal iechyd a gofal cymdeithasol "
              "gyda modelau busnes cymdeithasol.",
    },
    "decline.provision_not_held": {
        "en": "The knowledge base holds no {names}, so I can't say what it provides; check the "
              "provision number, or ask about the topic instead.",
        "cy": "Nid yw'r gronfa wybodaeth yn cynnwys {names}, felly ni allaf ddweud beth mae'n ei "
              "ddarparu; gwiriwch rif y ddarpariaeth, neu gofynnwch am y pwnc yn lle hynny.",
    },
    "decline.not_held": {
        "en": "The knowledge base does not hold {names}, so I can't say what it provides.",
        "cy": "Nid yw'r gronfa wybodaeth yn cynnwys {names}, felly ni allaf ddweud beth mae'n ei "
              "ddarparu.",
    },
    "decline.ask_about": {
        "en": "What does the knowledge base say about {topic}?",
        "cy": "Beth mae'r gronfa wybodaeth yn ei ddweud am {topic}?",
    },
    # Instruments' names in answers and notices (English: the catalogue's short names) ----------
    "instrument.eu-dir-2014-24": {"en": "Directive 2014/24/EU", "cy": "Cyfarwyddeb 2014/24/UE"},
    "instrument.uk-pcr-2015": {"en": "PCR 2015", "cy": "Rheoliadau Contractau Cyhoeddus 2015"},
    "instrument.uk-pa-2023": {"en": "Procurement Act 2023", "cy": "Deddf Caffael 2023"},
    "instrument.uk-sva-2012": {
        "en": "Social Value Act 2012",
        "cy": "Deddf Gwerth Cymdeithasol 2012",
    },
    "instrument.wales-sswba-2014": {
        "en": "SSWB (Wales) Act 2014",
        "cy": "Deddf Gwasanaethau Cymdeithasol a Llesiant (Cymru) 2014",
    },
    "instrument.wales-spppa-2023": {
        "en": "SPPP (Wales) Act 2023",
        "cy": "Deddf Partneriaeth Gymdeithasol a Chaffael Cyhoeddus (Cymru) 2023",
    },
    "instrument.uk-psr-2023": {
        "en": "Provider Selection Regime 2023",
        "cy": "Trefn Dewis Darparwyr 2023",
    },
    "instrument.wales-psr-2025": {
        "en": "Provider Selection Regime (Wales) 2025",
        "cy": "Trefn Dewis Darparwyr (Cymru) 2025",
    },
    # Feedback ----------------------------------------------------------------------------------
    "feedback.question": {
        "en": "Was this answer useful?",
        "cy": "A oedd yr ateb hwn yn ddefnyddiol?",
    },
    "feedback.up": {"en": "Yes, it was useful", "cy": "Oedd, roedd yn ddefnyddiol"},
    "feedback.down": {"en": "No, it was not useful", "cy": "Nac oedd, nid oedd yn ddefnyddiol"},
    "feedback.comment": {
        "en": "Comment on the answer you rated (optional)",
        "cy": "Sylw ar yr ateb a raddiwyd gennych (dewisol)",
    },
    "feedback.comment_placeholder": {
        "en": "What was useful, or what was missing? Please leave out names and other personal "
              "details.",
        "cy": "Beth oedd yn ddefnyddiol, neu beth oedd ar goll? Peidiwch â chynnwys enwau na "
              "manylion personol eraill.",
    },
    "feedback.send": {"en": "Send comment", "cy": "Anfon y sylw"},
    "feedback.rate_first": {
        "en": "Rate an answer with a thumb first; the comment goes with that rating.",
        "cy": "Rhowch fawd i ateb yn gyntaf; mae'r sylw yn mynd gyda'r sgôr honno.",
    },
    "feedback.like": {"en": "Like", "cy": "Hoffi"},
    "feedback.dislike": {"en": "Dislike", "cy": "Ddim yn hoffi"},
    "feedback.thanks": {
        "en": "Thank you: your feedback was saved.",
        "cy": "Diolch, mae eich adborth wedi'i gadw.",
    },
    "feedback.error": {
        "en": "Your feedback could not be saved. Try again in a moment; if it keeps happening, "
              "tell the administrator.",
        "cy": "Nid oedd modd cadw eich adborth. Rhowch gynnig arall arni mewn munud; os yw'n dal "
              "i ddigwydd, rhowch wybod i'r gweinyddwr.",
    },
    "feedback.error_detail": {
        "en": "Your feedback could not be saved: {reason}",
        "cy": "Nid oedd modd cadw eich adborth: {reason}",
    },
    # Exports -----------------------------------------------------------------------------------
    "export.markdown": {"en": "Download the conversation (Markdown)", "cy": "Lawrlwytho'r sgwrs (Markdown)"},
    "export.word": {"en": "Download the conversation (Word)", "cy": "Lawrlwytho'r sgwrs (Word)"},
    "export.nothing": {"en": "There is no answer to download yet.", "cy": "Nid oes ateb i'w lawrlwytho eto."},
    "export.file": {"en": "Your download", "cy": "Eich ffeil i'w lawrlwytho"},
    "export.copy": {"en": "Copy answer with sources", "cy": "Copïo'r ateb gyda'r ffynonellau"},
    "export.copied": {"en": "Copied", "cy": "Wedi'i gopïo"},
    "export.conversation_title": {"en": "procguide conversation", "cy": "Sgwrs procguide"},
    "export.exported_on": {"en": "Exported on {date}", "cy": "Allforiwyd ar {date}"},
    "export.exported_on_at": {
        "en": "Exported on {date} at {time}",
        "cy": "Allforiwyd ar {date} am {time}",
    },
    "export.context": {"en": "Context", "cy": "Cyd-destun"},
    "export.question_n": {"en": "Question {n}", "cy": "Cwestiwn {n}"},
    "export.question": {"en": "Question", "cy": "Cwestiwn"},
    "export.answer": {"en": "Answer", "cy": "Ateb"},
    "export.instrument": {"en": "Instrument: {names}", "cy": "Offeryn: {names}"},
    "export.jurisdiction": {"en": "Jurisdiction: {name}", "cy": "Awdurdodaeth: {name}"},
    # Training ----------------------------------------------------------------------------------
    "training.tab": {"en": "Training", "cy": "Hyfforddiant"},
    "training.choose": {"en": "Choose a session", "cy": "Dewiswch sesiwn"},
    "training.upload": {
        "en": "Or load your own scenario file (questions in the eval format, .jsonl)",
        "cy": "Fel arall, llwythwch eich ffeil senarios eich hun (cwestiynau yn y fformat "
              "gwerthuso, .jsonl)",
    },
    "training.scenario_n": {"en": "Scenario {n} of {total}", "cy": "Senario {n} o {total}"},
    "training.next": {"en": "Next scenario", "cy": "Y senario nesaf"},
    "training.reveal": {"en": "Reveal the answer", "cy": "Dangos yr ateb"},
    "training.expected": {"en": "Expected provisions", "cy": "Y darpariaethau disgwyliedig"},
    "training.discussion": {"en": "Discussion points", "cy": "Pwyntiau trafod"},
    "training.team_answer": {"en": "Your team's answer", "cy": "Ateb eich tîm"},
    "training.presenter": {
        "en": "Presenter view (large text)",
        "cy": "Golwg y cyflwynydd (testun mawr)",
    },
    "training.export": {"en": "Export the session pack", "cy": "Allforio pecyn y sesiwn"},
    # The session pack (training.py)
    "training.pack_title": {"en": "Session pack: {session}", "cy": "Pecyn y sesiwn: {session}"},
    "training.session": {"en": "Session: {title}", "cy": "Sesiwn: {title}"},
    "training.audience": {"en": "Audience: {audience}", "cy": "Cynulleidfa: {audience}"},
    "training.duration": {"en": "Duration: {minutes} minutes", "cy": "Hyd: {minutes} munud"},
    "training.scenario_count": {"en": "Scenarios: {n}", "cy": "Senarios: {n}"},
    "training.scenario_title": {"en": "Scenario {n}: {title}", "cy": "Senario {n}: {title}"},
    "training.scenario_discussion": {
        "en": "Scenario {n}: the assistant's answer and discussion",
        "cy": "Senario {n}: ateb y cynorthwyydd a thrafodaeth",
    },
    "training.earlier": {"en": "Earlier in the conversation:", "cy": "Yn gynharach yn y sgwrs:"},
    "training.commissioner": {"en": "Commissioner", "cy": "Comisiynydd"},
    "training.not_asked": {
        "en": "The assistant was not asked this scenario in the session.",
        "cy": "Ni ofynnwyd y senario hwn i'r cynorthwyydd yn y sesiwn.",
    },
    "training.decline_expected": {
        "en": "None: this is outside what procguide's knowledge base covers, and the right answer "
              "is to say so and point elsewhere.",
        "cy": "Dim: mae hyn y tu allan i'r hyn y mae cronfa wybodaeth procguide yn ei gynnwys, a'r "
              "ateb cywir yw dweud hynny a chyfeirio at rywle arall.",
    },
    # The Training tab (ui/training_tab.py)
    "training.start": {"en": "Start the session", "cy": "Dechrau'r sesiwn"},
    "training.previous": {"en": "Previous scenario", "cy": "Y senario blaenorol"},
    "training.session_choice": {"en": "{title} ({minutes} min)", "cy": "{title} ({minutes} munud)"},
    "training.choose_first": {
        "en": "Choose a session, or load your own scenario file, to begin.",
        "cy": "Dewiswch sesiwn, neu lwythwch eich ffeil senarios eich hun, i ddechrau.",
    },
    "training.earlier_turn": {"en": "{who}, earlier: {text}", "cy": "{who}, yn gynharach: {text}"},
    "training.note_team": {
        "en": "Note your team's answer, then reveal procguide's.",
        "cy": "Nodwch ateb eich tîm, yna dangoswch ateb procguide.",
    },
    "training.answer_heading": {"en": "procguide's answer", "cy": "Ateb procguide"},
    "training.expected_heading": {"en": "Expected", "cy": "Yr hyn a ddisgwylir"},
    "training.should_decline": {
        "en": "This question is outside what procguide covers: it should decline.",
        "cy": "Mae'r cwestiwn hwn y tu allan i'r hyn y mae procguide yn ei gynnwys: dylai wrthod "
              "ei ateb.",
    },
    "training.cannot_take": {
        "en": "procguide cannot take this scenario as written: {reason}",
        "cy": "Ni all procguide dderbyn y senario hwn fel y'i hysgrifennwyd: {reason}",
    },
    "training.session_not_started": {
        "en": "The session was not started. {reason}",
        "cy": "Ni ddechreuwyd y sesiwn. {reason}",
    },
    "training.file_not_loaded": {
        "en": "The scenario file was not loaded. {reason}",
        "cy": "Ni lwythwyd y ffeil senarios. {reason}",
    },
    "training.export_word": {
        "en": "Export the session pack (Word)",
        "cy": "Allforio pecyn y sesiwn (Word)",
    },
    "training.export_markdown": {
        "en": "Export the session pack (Markdown)",
        "cy": "Allforio pecyn y sesiwn (Markdown)",
    },
    "training.pack_file": {"en": "Session pack", "cy": "Pecyn y sesiwn"},
    # Accessible names --------------------------------------------------------------------------
    "a11y.skip": {"en": "Skip to the question box", "cy": "Neidio i'r blwch cwestiwn"},
    "a11y.send": {"en": "Send your question", "cy": "Anfon eich cwestiwn"},
    "a11y.copy": {
        "en": "Copy the answer with its sources",
        "cy": "Copïo'r ateb gyda'i ffynonellau",
    },
    "a11y.share": {"en": "Share this conversation", "cy": "Rhannu'r sgwrs hon"},
    "a11y.clear": {"en": "Clear the conversation", "cy": "Clirio'r sgwrs"},
    "a11y.new_tab": {"en": "(opens in a new tab)", "cy": "(yn agor mewn tab newydd)"},
    # Source cards ----------------------------------------------------------------------------
    # What kind of law an instrument is (its catalogue role), and where it applies.
    "card.regime.procurement": {"en": "procurement rules", "cy": "rheolau caffael"},
    "card.regime.health": {"en": "health services regime", "cy": "trefn gwasanaethau iechyd"},
    "card.regime.duty": {"en": "duty", "cy": "dyletswydd"},
    "card.regime.report": {"en": "report", "cy": "adroddiad"},
    "card.regime.article": {"en": "article", "cy": "erthygl"},
    "card.jurisdiction.uk": {"en": "UK", "cy": "DU"},
    "card.jurisdiction.eu": {"en": "EU", "cy": "UE"},
    "card.jurisdiction.england": {"en": "England", "cy": "Lloegr"},
    "card.jurisdiction.wales": {"en": "Wales", "cy": "Cymru"},
    "card.jurisdiction.northern_ireland": {"en": "Northern Ireland", "cy": "Gogledd Iwerddon"},
    "card.page": {"en": "p. {page}", "cy": "t. {page}"},
    "card.whole_passage": {"en": "Show the whole passage", "cy": "Dangos y darn cyfan"},
    # A provision in a link's text: "Procurement Act 2023, s. 33"
    "card.part.s": {"en": "s. {n}", "cy": "adran {n}"},
    "card.part.reg": {"en": "reg. {n}", "cy": "rheoliad {n}"},
    "card.part.art": {"en": "art. {n}", "cy": "erthygl {n}"},
    "card.part.sch": {"en": "sch. {n}", "cy": "atodlen {n}"},
    "card.part.sch_para": {"en": "sch. {n} para. {p}", "cy": "atodlen {n} paragraff {p}"},
    "card.part.recital": {"en": "recital {n}", "cy": "datganiad rhagarweiniol {n}"},
    "card.part.annex": {"en": "annex {n}", "cy": "atodiad {n}"},
    # Months, for dates written out in full ("3 Mawrth 2026") ----------------------------------
    "month.1": {"en": "January", "cy": "Ionawr"},
    "month.2": {"en": "February", "cy": "Chwefror"},
    "month.3": {"en": "March", "cy": "Mawrth"},
    "month.4": {"en": "April", "cy": "Ebrill"},
    "month.5": {"en": "May", "cy": "Mai"},
    "month.6": {"en": "June", "cy": "Mehefin"},
    "month.7": {"en": "July", "cy": "Gorffennaf"},
    "month.8": {"en": "August", "cy": "Awst"},
    "month.9": {"en": "September", "cy": "Medi"},
    "month.10": {"en": "October", "cy": "Hydref"},
    "month.11": {"en": "November", "cy": "Tachwedd"},
    "month.12": {"en": "December", "cy": "Rhagfyr"},
}


def language(code: str | None) -> str:
    """A supported language for a code as a browser or a caller gives it ('cy', 'cy-GB',
    'en_GB', None); anything else is the default, English."""
    base = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def placeholders(text: str) -> set[str]:
    """The names of a string's placeholders: 'Exported on {date} at {time}' -> {'date', 'time'}."""
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def t(key: str, lang: str | None = DEFAULT_LANGUAGE, /, **values: object) -> str:
    """The string `key` in `lang` (English for a language procguide does not offer), with its
    placeholders filled from `values`. The result is plain text: escape it before rendering."""
    try:
        entry = STRINGS[key]
    except KeyError:
        raise KeyError(
            f"No interface string is named {key!r}; the names are the keys of "
            "procguide.ui.strings.STRINGS"
        ) from None
    text = entry.get(language(lang)) or entry[DEFAULT_LANGUAGE]
    try:
        return text.format(**values)
    except KeyError as exc:
        raise KeyError(f"The string {key!r} needs a value for {{{exc.args[0]}}}") from None


def choices(group: str, lang: str | None) -> list[tuple[str, str]]:
    """A dropdown's choices as (label, code) pairs, in the table's order: choices('nation', 'cy')
    -> [("Ei gasglu o'm cwestiwn", 'auto'), ('Cymru', 'wales'), ...]. The code stays the same
    whatever the language, so a handler never has to read a label."""
    prefix = f"{group}.choice."
    return [(t(key, lang), key[len(prefix):]) for key in STRINGS if key.startswith(prefix)]


def examples(lang: str | None) -> list[str]:
    """The example questions in `lang`."""
    return [t(key, lang) for key in STRINGS if key.startswith("example.")]


def long_date(day: date | datetime, lang: str | None) -> str:
    """A date written out: '3 March 2026', '3 Mawrth 2026'."""
    return f"{day.day} {t(f'month.{day.month}', lang)} {day.year}"


def instrument_name(instrument_id: str, lang: str | None, default: str = "") -> str:
    """An instrument's short name in `lang` (its official Welsh form where it has one), else
    `default` (the catalogue's name, say) for an instrument the table does not name."""
    key = f"instrument.{instrument_id}"
    return t(key, lang) if key in STRINGS else default
