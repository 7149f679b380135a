from medchain.v1 import tensor_pb2 as _tensor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StudySpec(_message.Message):
    __slots__ = ("study_id", "spec_json")
    STUDY_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_JSON_FIELD_NUMBER: _ClassVar[int]
    study_id: str
    spec_json: str
    def __init__(self, study_id: _Optional[str] = ..., spec_json: _Optional[str] = ...) -> None: ...

class JoinRequest(_message.Message):
    __slots__ = ("study", "after_tx_id")
    STUDY_FIELD_NUMBER: _ClassVar[int]
    AFTER_TX_ID_FIELD_NUMBER: _ClassVar[int]
    study: StudySpec
    after_tx_id: str
    def __init__(self, study: _Optional[_Union[StudySpec, _Mapping]] = ..., after_tx_id: _Optional[str] = ...) -> None: ...

class JoinReply(_message.Message):
    __slots__ = ("org", "eligible_patients", "tx_id", "block_number", "already_joined")
    ORG_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_PATIENTS_FIELD_NUMBER: _ClassVar[int]
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ALREADY_JOINED_FIELD_NUMBER: _ClassVar[int]
    org: str
    eligible_patients: int
    tx_id: str
    block_number: int
    already_joined: bool
    def __init__(self, org: _Optional[str] = ..., eligible_patients: _Optional[int] = ..., tx_id: _Optional[str] = ..., block_number: _Optional[int] = ..., already_joined: bool = ...) -> None: ...

class FeatureStatsRequest(_message.Message):
    __slots__ = ("study",)
    STUDY_FIELD_NUMBER: _ClassVar[int]
    study: StudySpec
    def __init__(self, study: _Optional[_Union[StudySpec, _Mapping]] = ...) -> None: ...

class FeatureStatsReply(_message.Message):
    __slots__ = ("org", "columns", "count", "sum", "sum_of_squares", "labels")
    ORG_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    SUM_OF_SQUARES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    org: str
    columns: _containers.RepeatedScalarFieldContainer[str]
    count: int
    sum: _containers.RepeatedScalarFieldContainer[float]
    sum_of_squares: _containers.RepeatedScalarFieldContainer[float]
    labels: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, org: _Optional[str] = ..., columns: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ..., sum: _Optional[_Iterable[float]] = ..., sum_of_squares: _Optional[_Iterable[float]] = ..., labels: _Optional[_Iterable[float]] = ...) -> None: ...

class TrainRequest(_message.Message):
    __slots__ = ("study", "round", "global_parameters", "global_model_hash", "after_tx_id")
    STUDY_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_MODEL_HASH_FIELD_NUMBER: _ClassVar[int]
    AFTER_TX_ID_FIELD_NUMBER: _ClassVar[int]
    study: StudySpec
    round: int
    global_parameters: _tensor_pb2.TensorSet
    global_model_hash: str
    after_tx_id: str
    def __init__(self, study: _Optional[_Union[StudySpec, _Mapping]] = ..., round: _Optional[int] = ..., global_parameters: _Optional[_Union[_tensor_pb2.TensorSet, _Mapping]] = ..., global_model_hash: _Optional[str] = ..., after_tx_id: _Optional[str] = ...) -> None: ...

class TrainReply(_message.Message):
    __slots__ = ("org", "round", "parameters", "sample_count", "update_hash", "cohort_root", "cohort_size", "privacy_spent", "metrics", "tx_id", "block_number", "consent_block_height", "timings")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ORG_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_HASH_FIELD_NUMBER: _ClassVar[int]
    COHORT_ROOT_FIELD_NUMBER: _ClassVar[int]
    COHORT_SIZE_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_SPENT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONSENT_BLOCK_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    org: str
    round: int
    parameters: _tensor_pb2.TensorSet
    sample_count: int
    update_hash: str
    cohort_root: str
    cohort_size: int
    privacy_spent: float
    metrics: _containers.ScalarMap[str, float]
    tx_id: str
    block_number: int
    consent_block_height: int
    timings: Timings
    def __init__(self, org: _Optional[str] = ..., round: _Optional[int] = ..., parameters: _Optional[_Union[_tensor_pb2.TensorSet, _Mapping]] = ..., sample_count: _Optional[int] = ..., update_hash: _Optional[str] = ..., cohort_root: _Optional[str] = ..., cohort_size: _Optional[int] = ..., privacy_spent: _Optional[float] = ..., metrics: _Optional[_Mapping[str, float]] = ..., tx_id: _Optional[str] = ..., block_number: _Optional[int] = ..., consent_block_height: _Optional[int] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("data", "training", "ledger")
    DATA_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FIELD_NUMBER: _ClassVar[int]
    LEDGER_FIELD_NUMBER: _ClassVar[int]
    data: float
    training: float
    ledger: float
    def __init__(self, data: _Optional[float] = ..., training: _Optional[float] = ..., ledger: _Optional[float] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("study", "parameters")
    STUDY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    study: StudySpec
    parameters: _tensor_pb2.TensorSet
    def __init__(self, study: _Optional[_Union[StudySpec, _Mapping]] = ..., parameters: _Optional[_Union[_tensor_pb2.TensorSet, _Mapping]] = ...) -> None: ...

class EvaluateReply(_message.Message):
    __slots__ = ("org", "sample_count", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ORG_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    org: str
    sample_count: int
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, org: _Optional[str] = ..., sample_count: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...
