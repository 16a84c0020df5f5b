// Errors a user can cause. The CLI prints them as one line and exits 2; anything else is a
// failed run (exit 1), with a stack trace under --verbose.
export class UserError extends Error {}
