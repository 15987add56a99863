package msgbus

// SessionLimit is how long the group waits for a member that stopped
// heartbeating before it gives its partitions to others.
const SessionLimit = sessionLimit
