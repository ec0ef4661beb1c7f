"""Interface strings in both languages; card content carries its own translations."""

from app.cards import Language

DEFAULT_LANGUAGE: Language = "ja"

STRINGS: dict[str, dict[Language, str]] = {
    "tagline": {
        "ja": "E資格の数式を、計算して理解する",
        "en": "Deep-learning formulas you can compute",
    },
    "catalog": {"ja": "数式カード一覧", "en": "Formula cards"},
    "search": {"ja": "検索", "en": "Search"},
    "search_placeholder": {
        "ja": "タイトル・記号・タグで検索（例：交差エントロピー, softmax）",
        "en": "Search titles, symbols, tags (e.g. attention, 温度)",
    },
    "results_for": {"ja": "検索結果", "en": "Results for"},
    "no_results": {"ja": "一致するカードはありません。", "en": "No card matches."},
    "cards_count": {"ja": "枚", "en": "cards"},
    "legend": {"ja": "記号の意味", "en": "Legend"},
    "symbol": {"ja": "記号", "en": "Symbol"},
    "meaning": {"ja": "意味", "en": "Meaning"},
    "notes": {"ja": "解説", "en": "Notes"},
    "mistakes": {"ja": "よくある間違い", "en": "Common mistakes"},
    "wrong_form": {"ja": "誤った式", "en": "Wrong form"},
    "variants": {"ja": "他の書き方・実装との違い", "en": "Variants in other books and libraries"},
    "sources": {"ja": "出典（検証に用いた一次資料）", "en": "Primary sources checked"},
    "calculator": {"ja": "計算機", "en": "Calculator"},
    "calculator_help": {
        "ja": "値を変えると結果がすぐ更新されます。リストはカンマ区切り、行列は1行に1行ずつ。",
        "en": "Results update as you type. Lists are comma-separated; one matrix row per line.",
    },
    "compute": {"ja": "計算する", "en": "Compute"},
    "results": {"ja": "結果", "en": "Result"},
    "steps": {"ja": "途中の計算", "en": "Intermediate steps"},
    "undefined": {"ja": "未定義", "en": "undefined"},
    "fix_inputs": {"ja": "入力を確認してください。", "en": "Please check the inputs."},
    "tags": {"ja": "タグ", "en": "Tags"},
    "syllabus": {"ja": "シラバス", "en": "Syllabus"},
    "examinable": {"ja": "出題範囲", "en": "examinable"},
    "optional": {"ja": "範囲外・参考", "en": "optional"},
    "not_found": {"ja": "ページが見つかりません", "en": "Page not found"},
    "back_to_catalog": {"ja": "一覧へ戻る", "en": "Back to the catalog"},
    "api_docs": {"ja": "API", "en": "API"},
    "switch_language": {"ja": "English", "en": "日本語"},
    "optional_input": {"ja": "任意", "en": "optional"},
    "area_math": {"ja": "数学的基礎", "en": "Mathematical foundations"},
    "area_machine-learning": {"ja": "機械学習", "en": "Machine learning"},
    "area_deep-learning-basics": {"ja": "深層学習の基礎", "en": "Deep learning basics"},
    "area_deep-learning-applications": {"ja": "深層学習の応用", "en": "Deep learning applications"},
    "area_development": {"ja": "開発・運用環境", "en": "Development environment"},
}


def translate(key: str, language: Language) -> str:
    return STRINGS[key][language]
