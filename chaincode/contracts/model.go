package contracts

// World-state records, results and event payloads. Every value is written with canonicalJSON
// (sorted keys, no spaces); slices and maps are never nil so they encode as [] and {}.

// ConsentInput is one consent as the hospital's consent service submits it.
type ConsentInput struct {
	Pseudonym    string `json:"pseudonym"`
	Org          string `json:"org"`
	Study        string `json:"study"`
	Decision     string `json:"decision"`
	ValidFrom    string `json:"validFrom"`
	ValidUntil   string `json:"validUntil"`
	DocumentHash string `json:"documentHash"`
}

// Consent is the stored consent state of one (org, pseudonym, study) key.
type Consent struct {
	ConsentInput
	Status    string `json:"status"`
	Version   int64  `json:"version"`
	TxID      string `json:"txId"`
	Timestamp string `json:"timestamp"`
}

// ConsentBatchResult is RecordBatch's result.
type ConsentBatchResult struct {
	Count    int       `json:"count"`
	TxID     string    `json:"txId"`
	Consents []Consent `json:"consents"`
}

// ConsentHistoryEntry is one write of a consent key; Consent is nil for a delete.
type ConsentHistoryEntry struct {
	TxID      string   `json:"txId"`
	Timestamp string   `json:"timestamp"`
	IsDelete  bool     `json:"isDelete"`
	Consent   *Consent `json:"consent"`
}

// FilterResult is FilterPermitted's result.
type FilterResult struct {
	Study     string   `json:"study"`
	Org       string   `json:"org"`
	AsOf      string   `json:"asOf"`
	Permitted []string `json:"permitted"`
}

// ConsentChange is one entry of the ConsentRecorded event.
type ConsentChange struct {
	Org       string `json:"org"`
	Pseudonym string `json:"pseudonym"`
	Study     string `json:"study"`
	Decision  string `json:"decision"`
	Status    string `json:"status"`
	Version   int64  `json:"version"`
}

// ConsentRecordedEvent is the payload of the ConsentRecorded event.
type ConsentRecordedEvent struct {
	TxID    string          `json:"txId"`
	Changes []ConsentChange `json:"changes"`
}

// StudyInput is a study definition as the coordinator submits it.
type StudyInput struct {
	ID               string   `json:"id"`
	SpecHash         string   `json:"specHash"`
	Participants     []string `json:"participants"`
	Rounds           int64    `json:"rounds"`
	MinParticipants  int64    `json:"minParticipants"`
	Epsilon          float64  `json:"epsilon"`
	Delta            float64  `json:"delta"`
	Strategy         string   `json:"strategy"`
	InitialModelHash string   `json:"initialModelHash"`
}

// Identity names a caller: its MSP id and its x509 client id.
type Identity struct {
	MSPID string `json:"mspId"`
	ID    string `json:"id"`
}

// Study is the stored study; TxID and Timestamp name the last transaction that changed it.
type Study struct {
	StudyInput
	Coordinator      Identity `json:"coordinator"`
	Joined           []string `json:"joined"`
	Status           string   `json:"status"`
	CurrentRound     int64    `json:"currentRound"`
	CurrentModelHash string   `json:"currentModelHash"`
	PrivacySpent     float64  `json:"privacySpent"`
	TxID             string   `json:"txId"`
	Timestamp        string   `json:"timestamp"`
}

// RoundState is the stored part of a round; updates live under their own keys so that
// concurrent submissions from different orgs do not conflict on one key.
type RoundState struct {
	StudyID         string             `json:"studyId"`
	Round           int64              `json:"round"`
	Status          string             `json:"status"`
	OpenedTxID      string             `json:"openedTxId"`
	OpenedAt        string             `json:"openedAt"`
	ModelHash       string             `json:"modelHash"`
	ParentModelHash string             `json:"parentModelHash"`
	Included        []string           `json:"included"`
	Metrics         map[string]float64 `json:"metrics"`
	PrivacySpent    float64            `json:"privacySpent"`
	CommittedTxID   string             `json:"committedTxId"`
	CommittedAt     string             `json:"committedAt"`
}

// Round is a round as returned to clients: its state plus every update submitted to it.
type Round struct {
	RoundState
	Updates map[string]Update `json:"updates"`
}

// Update is one org's model update in one round (hashes and counts only, never weights).
type Update struct {
	Org          string             `json:"org"`
	UpdateHash   string             `json:"updateHash"`
	SampleCount  int64              `json:"sampleCount"`
	CohortRoot   string             `json:"cohortRoot"`
	CohortSize   int64              `json:"cohortSize"`
	PrivacySpent float64            `json:"privacySpent"`
	Metrics      map[string]float64 `json:"metrics"`
	TxID         string             `json:"txId"`
	Timestamp    string             `json:"timestamp"`
}

// modelOrigin indexes a model hash to the latest round of a study that produced it.
type modelOrigin struct {
	Round int64 `json:"round"`
}

// Lineage is ModelLineage's result: the committed rounds that led to a model, newest first.
type Lineage struct {
	ModelHash string        `json:"modelHash"`
	StudyID   string        `json:"studyId"`
	Steps     []LineageStep `json:"steps"`
}

// LineageStep is one committed round in a lineage; Updates maps each included org to its update hash.
type LineageStep struct {
	Round           int64             `json:"round"`
	ModelHash       string            `json:"modelHash"`
	ParentModelHash string            `json:"parentModelHash"`
	Included        []string          `json:"included"`
	Updates         map[string]string `json:"updates"`
	TxID            string            `json:"txId"`
}

// StudyCreatedEvent is the payload of the StudyCreated event.
type StudyCreatedEvent struct {
	StudyID string `json:"studyId"`
	TxID    string `json:"txId"`
}

// RoundOpenedEvent is the payload of the RoundOpened event.
type RoundOpenedEvent struct {
	StudyID string `json:"studyId"`
	Round   int64  `json:"round"`
	TxID    string `json:"txId"`
}

// UpdateSubmittedEvent is the payload of the UpdateSubmitted event.
type UpdateSubmittedEvent struct {
	StudyID    string `json:"studyId"`
	Round      int64  `json:"round"`
	Org        string `json:"org"`
	UpdateHash string `json:"updateHash"`
	TxID       string `json:"txId"`
}

// RoundCommittedEvent is the payload of the RoundCommitted event.
type RoundCommittedEvent struct {
	StudyID   string   `json:"studyId"`
	Round     int64    `json:"round"`
	ModelHash string   `json:"modelHash"`
	Included  []string `json:"included"`
	TxID      string   `json:"txId"`
}
