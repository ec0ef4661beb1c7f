"""Koshiki: formula cards, live calculators and spaced-repetition quizzes for deep learning."""
