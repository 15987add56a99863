package ofp13

// AppendBinary and MarshalBinary of every message, all through appendMessage.

func (m *Hello) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *Hello) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *ErrorMsg) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *ErrorMsg) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *EchoRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *EchoRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *EchoReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *EchoReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *Experimenter) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *Experimenter) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *FeaturesRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *FeaturesRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *FeaturesReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *FeaturesReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GetConfigRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GetConfigRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GetConfigReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GetConfigReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *SetConfig) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *SetConfig) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PacketIn) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PacketIn) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *FlowRemoved) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *FlowRemoved) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PortStatus) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PortStatus) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PacketOut) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PacketOut) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *FlowMod) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *FlowMod) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupMod) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupMod) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PortMod) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PortMod) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *TableMod) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *TableMod) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *BarrierRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *BarrierRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *BarrierReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *BarrierReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *RoleRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *RoleRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *RoleReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *RoleReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GetAsyncRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GetAsyncRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GetAsyncReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GetAsyncReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *SetAsync) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *SetAsync) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterMod) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *MeterMod) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *DescRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *DescRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *DescReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *DescReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *FlowStatsRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *FlowStatsRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *FlowStatsReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *FlowStatsReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *AggregateStatsRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *AggregateStatsRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *AggregateStatsReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *AggregateStatsReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *TableStatsRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *TableStatsRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *TableStatsReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *TableStatsReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PortStatsRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PortStatsRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PortStatsReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PortStatsReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PortDescRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PortDescRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *PortDescReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *PortDescReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupStatsRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupStatsRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupStatsReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupStatsReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupDescRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupDescRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupDescReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupDescReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupFeaturesRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupFeaturesRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *GroupFeaturesReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *GroupFeaturesReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterStatsRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *MeterStatsRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterStatsReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *MeterStatsReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterConfigRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *MeterConfigRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterConfigReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *MeterConfigReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterFeaturesRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *MeterFeaturesRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *MeterFeaturesReply) AppendBinary(b []byte) ([]byte, error)   { return appendMessage(b, m) }
func (m *MeterFeaturesReply) MarshalBinary() ([]byte, error)          { return appendMessage(nil, m) }
func (m *TableFeaturesRequest) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *TableFeaturesRequest) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }

func (m *TableFeaturesReply) AppendBinary(b []byte) ([]byte, error) { return appendMessage(b, m) }
func (m *TableFeaturesReply) MarshalBinary() ([]byte, error)        { return appendMessage(nil, m) }
