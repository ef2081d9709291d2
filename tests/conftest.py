import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR.parent / "shared" / "compose-corpus"
sys.path.insert(0, str(PROJECT_DIR))
