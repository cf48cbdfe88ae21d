"""Names of the categories (Graph) and labels (Gmail) shipdraft puts on its drafts and notes.

The draft gets "AI draft" plus one per intent ("AI: ETA request"), so agents
can filter and sort; the note gets "AI note". Intents are classified here with
the rule classifier because the mailbox port hands providers the email and
the draft, not the analysis.
"""

from __future__ import annotations

from agent.intents import RuleIntentClassifier
from agent.models import Email, Intent

DRAFT_LABEL = "AI draft"
NOTE_LABEL = "AI note"


def intent_labels(*, email: Email, prefix: str = "AI: ") -> list[str]:
    """One label per recognized intent of the inbound email ("other" gets none)."""
    intents = RuleIntentClassifier().classify(email=email)
    return [f"{prefix}{_title(i)}" for i in intents if i != Intent.OTHER]


def _title(intent: Intent) -> str:
    words = intent.value.replace("_", " ")
    return words.replace("eta", "ETA", 1) if words.startswith("eta") else words.capitalize()
