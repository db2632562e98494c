"""The course: 28 runnable lessons in seven modules, checked exercises and four projects.

Each lesson is one file in jupytext's percent format, so it is a script and a notebook at once:
``regulab course run 5.4`` runs it, ``regulab course notebook 5.4`` writes the notebook. Every lesson
has an exercise; ``regulab exercise check 5.4.1 my_file.py`` grades a learner's file and explains
what is wrong. In a notebook, ``regulab.course.exercise("5.4.1").check(globals())`` does the same.

Lessons call :func:`quick`, :func:`result` and :func:`save_figure` to know their mode and report.

>>> from regulab import course
>>> course.lesson("5.4").title
'Regularization and improvement techniques'
>>> course.exercise("5.4.1").title
'Implementing L2 regularization'
"""
from regulab.course._catalog import MODULES, Lesson, lesson, lessons
from regulab.course._exercise import CheckReport, Exercise, exercise, exercises
from regulab.course._lesson_tools import output_dir, quick, result, save_figure

__all__ = ["lessons", "lesson", "Lesson", "MODULES", "exercises", "exercise", "Exercise", "CheckReport",
           "quick", "result", "save_figure", "output_dir"]
