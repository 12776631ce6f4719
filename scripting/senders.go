package scripting

// senders are the globals that verify a sender's signature: GITHUB, GITLAB,
// BITBUCKET, SLACK, STRIPE and STANDARD.
var senders = []api{}
