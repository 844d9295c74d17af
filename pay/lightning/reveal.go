package lightning

// RevealsPreimage reports true: paying a hold invoice over Lightning
// returns its preimage once the payee settles it (pay.Revealer).
func (r *Rail) RevealsPreimage() bool { return true }
