"""Class accounts: students without email sign in with their class code and their own code; teachers without
an OpenID Connect provider with an operator-made account. `store` (folder, locks), `codes` (argon2 hashes),
`classes` and `class_edits` (a teacher's classes), `teachers`, `lockout`, `tokens` (signed, expiring), `sign_in`
(the Person a code or token is), `sheet` (the printable codes), `cli`."""

from mnist_core.accounts.class_edits import add_students, close_class, let_try_again, remove_student, reset_code
from mnist_core.accounts.classes import (
    MAX_STUDENTS,
    ClassInfo,
    NewCode,
    Student,
    create_class,
    list_classes,
    load_class,
    student_names,
)
from mnist_core.accounts.codes import CodeError
from mnist_core.accounts.lockout import LockedOut
from mnist_core.accounts.sign_in import SignedIn, person_from_token, sign_in_student, sign_in_teacher
from mnist_core.accounts.store import AccountError, accounts_dir, class_accounts_on
from mnist_core.accounts.tokens import TokenError

__all__ = [
    "MAX_STUDENTS", "AccountError", "ClassInfo", "CodeError", "LockedOut", "NewCode", "SignedIn", "Student",
    "TokenError", "accounts_dir", "add_students", "class_accounts_on", "close_class", "create_class",
    "let_try_again", "list_classes", "load_class", "person_from_token", "remove_student", "reset_code",
    "sign_in_student", "sign_in_teacher", "student_names",
]  # fmt: skip
