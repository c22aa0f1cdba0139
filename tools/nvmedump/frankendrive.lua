-- SPDX-License-Identifier: BSD-2-Clause
--
-- frankendrive.lua: a Wireshark dissector for the frankendrive flight
-- recorder's events as nvmedump -w writes them to pcapng.
--
-- The capture's link type is 252 (WIRESHARK_UPPER_PDU, "exported PDUs").
-- Commands, completions and data travel as real NVMe/TCP PDUs (exported-PDU
-- tag 12 "nvme-tcp": Wireshark's own NVMe/TCP dissector); every other event
-- is a record whose tag 12 (dissector name) is "frankendrive" and whose
-- payload is the raw 256-byte struct fdr_rec_event of
-- include/frankendrive/recorder.h (little-endian, packed; seq holds the
-- event's index).  This file registers the dissector "frankendrive" that the
-- exported-PDU dissector looks up by that name.  It decodes every kind, also
-- those nvmedump sends as NVMe/TCP, and kinds it does not know ("kind N",
-- the raw bytes).  The Info column follows nvmedump's text (format.c); for
-- register accesses it decodes the register ("CC write: EN=1 CSS=0 ...").
-- Events of a PCIe function (xport 1) carry its PCI address in conn; their
-- register offsets are BAR0's (doorbells, MSI-X table, PBA).
--
-- Use: tshark -X lua_script:frankendrive.lua -r capture.pcapng
--      or copy it to ~/.local/lib/wireshark/plugins/ (see docs/recorder.md).
-- Works with Wireshark 4.0 (Lua 5.2) and later.

-- ---- Bit operations: bit32 (Lua 5.2), LuaBitOp, or native (Lua 5.3+) ----

local band, rshift
if bit32 then
	band, rshift = bit32.band, bit32.rshift
elseif bit then
	band = function(a, b) return bit.band(a, b) % 4294967296 end
	rshift = function(a, n) return bit.rshift(a, n) % 4294967296 end
else
	band, rshift = load("return function(a, b) return a & b end, function(a, n) return a >> n end")()
end

local function bits(v, shift, mask)
	return band(rshift(v, shift), mask)
end

-- ---- Name tables: a copy of src/common/names.c (keep the two in step) ----

local admin_opc_names = {
	[0x00] = "Delete IO SQ",
	[0x01] = "Create IO SQ",
	[0x02] = "Get Log Page",
	[0x04] = "Delete IO CQ",
	[0x05] = "Create IO CQ",
	[0x06] = "Identify",
	[0x08] = "Abort",
	[0x09] = "Set Features",
	[0x0a] = "Get Features",
	[0x0c] = "Async Event Request",
	[0x0d] = "Namespace Management",
	[0x10] = "Firmware Commit",
	[0x11] = "Firmware Image Download",
	[0x14] = "Device Self-test",
	[0x15] = "Namespace Attachment",
	[0x18] = "Keep Alive",
	[0x19] = "Directive Send",
	[0x1a] = "Directive Receive",
	[0x1c] = "Virtualization Management",
	[0x1d] = "NVMe-MI Send",
	[0x1e] = "NVMe-MI Receive",
	[0x20] = "Capacity Management",
	[0x24] = "Lockdown",
	[0x7c] = "Doorbell Buffer Config",
	[0x7f] = "Fabrics",
	[0x80] = "Format NVM",
	[0x81] = "Security Send",
	[0x82] = "Security Receive",
	[0x84] = "Sanitize",
	[0x86] = "Get LBA Status",
}
local io_opc_names = {
	[0x00] = "Flush",
	[0x01] = "Write",
	[0x02] = "Read",
	[0x04] = "Write Uncorrectable",
	[0x05] = "Compare",
	[0x08] = "Write Zeroes",
	[0x09] = "Dataset Management",
	[0x0c] = "Verify",
	[0x0d] = "Reservation Register",
	[0x0e] = "Reservation Report",
	[0x11] = "Reservation Acquire",
	[0x15] = "Reservation Release",
	[0x19] = "Copy",
	[0x7f] = "Fabrics",
}
local fabrics_type_names = {
	[0x00] = "Property Set",
	[0x01] = "Connect",
	[0x04] = "Property Get",
	[0x05] = "Authentication Send",
	[0x06] = "Authentication Receive",
	[0x08] = "Disconnect",
}
local sc_generic_names = {
	[0x00] = "SUCCESS",
	[0x01] = "INVALID OPCODE",
	[0x02] = "INVALID FIELD",
	[0x03] = "COMMAND ID CONFLICT",
	[0x04] = "DATA TRANSFER ERROR",
	[0x05] = "ABORTED - POWER LOSS",
	[0x06] = "INTERNAL DEVICE ERROR",
	[0x07] = "ABORTED - BY REQUEST",
	[0x08] = "ABORTED - SQ DELETION",
	[0x09] = "ABORTED - FAILED FUSED",
	[0x0a] = "ABORTED - MISSING FUSED",
	[0x0b] = "INVALID NAMESPACE OR FORMAT",
	[0x0c] = "COMMAND SEQUENCE ERROR",
	[0x0d] = "INVALID SGL SEGMENT DESCRIPTOR",
	[0x0e] = "INVALID NUMBER OF SGL DESCRIPTORS",
	[0x0f] = "DATA SGL LENGTH INVALID",
	[0x10] = "METADATA SGL LENGTH INVALID",
	[0x11] = "SGL DESCRIPTOR TYPE INVALID",
	[0x12] = "INVALID USE OF CONTROLLER MEMORY BUFFER",
	[0x13] = "PRP OFFSET INVALID",
	[0x14] = "ATOMIC WRITE UNIT EXCEEDED",
	[0x15] = "OPERATION DENIED",
	[0x16] = "SGL OFFSET INVALID",
	[0x18] = "HOST IDENTIFIER INCONSISTENT FORMAT",
	[0x19] = "KEEP ALIVE TIMEOUT EXPIRED",
	[0x1a] = "KEEP ALIVE TIMEOUT INVALID",
	[0x1b] = "COMMAND ABORTED DUE TO PREEMPT AND ABORT",
	[0x1c] = "SANITIZE FAILED",
	[0x1d] = "SANITIZE IN PROGRESS",
	[0x1e] = "SGL DATA BLOCK GRANULARITY INVALID",
	[0x1f] = "COMMAND NOT SUPPORTED FOR QUEUE IN CMB",
	[0x20] = "NAMESPACE IS WRITE PROTECTED",
	[0x21] = "COMMAND INTERRUPTED",
	[0x22] = "TRANSIENT TRANSPORT ERROR",
	[0x23] = "PROHIBITED BY COMMAND AND FEATURE LOCKDOWN",
	[0x24] = "ADMIN COMMAND MEDIA NOT READY",
	[0x80] = "LBA OUT OF RANGE",
	[0x81] = "CAPACITY EXCEEDED",
	[0x82] = "NAMESPACE NOT READY",
	[0x83] = "RESERVATION CONFLICT",
	[0x84] = "FORMAT IN PROGRESS",
}
local sc_cmd_specific_names = {
	[0x00] = "INVALID COMPLETION QUEUE",
	[0x01] = "INVALID QUEUE IDENTIFIER",
	[0x02] = "INVALID QUEUE SIZE",
	[0x03] = "ABORT COMMAND LIMIT EXCEEDED",
	[0x05] = "ASYNC EVENT REQUEST LIMIT EXCEEDED",
	[0x06] = "INVALID FIRMWARE SLOT",
	[0x07] = "INVALID FIRMWARE IMAGE",
	[0x08] = "INVALID INTERRUPT VECTOR",
	[0x09] = "INVALID LOG PAGE",
	[0x0a] = "INVALID FORMAT",
	[0x0b] = "FIRMWARE REQUIRES RESET",
	[0x0c] = "INVALID QUEUE DELETION",
	[0x0d] = "FEATURE NOT SAVEABLE",
	[0x0e] = "FEATURE NOT CHANGEABLE",
	[0x0f] = "FEATURE NOT NAMESPACE SPECIFIC",
	[0x10] = "FIRMWARE ACTIVATION REQUIRES NVM SUBSYSTEM RESET",
	[0x11] = "FIRMWARE ACTIVATION REQUIRES CONTROLLER RESET",
	[0x12] = "FIRMWARE ACTIVATION REQUIRES MAXIMUM TIME VIOLATION",
	[0x13] = "FIRMWARE ACTIVATION PROHIBITED",
	[0x14] = "OVERLAPPING RANGE",
	[0x15] = "NAMESPACE INSUFFICIENT CAPACITY",
	[0x16] = "NAMESPACE IDENTIFIER UNAVAILABLE",
	[0x18] = "NAMESPACE ALREADY ATTACHED",
	[0x19] = "NAMESPACE IS PRIVATE",
	[0x1a] = "NAMESPACE NOT ATTACHED",
	[0x1b] = "THIN PROVISIONING NOT SUPPORTED",
	[0x1c] = "CONTROLLER LIST INVALID",
	[0x1d] = "DEVICE SELF-TEST IN PROGRESS",
	[0x1e] = "BOOT PARTITION WRITE PROHIBITED",
	[0x1f] = "INVALID CONTROLLER IDENTIFIER",
	[0x20] = "INVALID SECONDARY CONTROLLER STATE",
	[0x21] = "INVALID NUMBER OF CONTROLLER RESOURCES",
	[0x22] = "INVALID RESOURCE IDENTIFIER",
	[0x23] = "SANITIZE PROHIBITED WHILE PMR ENABLED",
	[0x24] = "ANA GROUP IDENTIFIER INVALID",
	[0x25] = "ANA ATTACH FAILED",
	[0x26] = "INSUFFICIENT CAPACITY",
	[0x27] = "NAMESPACE ATTACHMENT LIMIT EXCEEDED",
	[0x28] = "PROHIBITION OF COMMAND EXECUTION NOT SUPPORTED",
	[0x29] = "I/O COMMAND SET NOT SUPPORTED",
	[0x2a] = "I/O COMMAND SET NOT ENABLED",
	[0x2b] = "I/O COMMAND SET COMBINATION REJECTED",
	[0x2c] = "INVALID I/O COMMAND SET",
	[0x2d] = "IDENTIFIER UNAVAILABLE",
	[0x80] = "CONFLICTING ATTRIBUTES",
	[0x81] = "INVALID PROTECTION INFO",
	[0x82] = "WRITE TO RO PAGE",
	[0x83] = "COMMAND SIZE LIMIT EXCEEDED",
	[0xb8] = "ZONE BOUNDARY ERROR",
	[0xb9] = "ZONE IS FULL",
	[0xba] = "ZONE IS READ ONLY",
	[0xbb] = "ZONE IS OFFLINE",
	[0xbc] = "ZONE INVALID WRITE",
	[0xbd] = "TOO MANY ACTIVE ZONES",
	[0xbe] = "TOO MANY OPEN ZONES",
	[0xbf] = "INVALID ZONE STATE TRANSITION",
}
local sc_fabrics_names = {
	[0x80] = "CONNECT INCOMPATIBLE FORMAT",
	[0x81] = "CONNECT CONTROLLER BUSY",
	[0x82] = "CONNECT INVALID PARAMETERS",
	[0x83] = "CONNECT RESTART DISCOVERY",
	[0x84] = "CONNECT INVALID HOST",
	[0x90] = "DISCOVER RESTART",
	[0x91] = "AUTHENTICATION REQUIRED",
}
local sc_media_names = {
	[0x80] = "WRITE FAULT",
	[0x81] = "UNRECOVERED READ ERROR",
	[0x82] = "GUARD CHECK ERROR",
	[0x83] = "APPLICATION TAG CHECK ERROR",
	[0x84] = "REFERENCE TAG CHECK ERROR",
	[0x85] = "COMPARE FAILURE",
	[0x86] = "ACCESS DENIED",
	[0x87] = "DEALLOCATED OR UNWRITTEN LOGICAL BLOCK",
	[0x88] = "STORAGE TAG CHECK ERROR",
}
local sc_path_names = {
	[0x00] = "INTERNAL PATH ERROR",
	[0x01] = "ASYMMETRIC ACCESS PERSISTENT LOSS",
	[0x02] = "ASYMMETRIC ACCESS INACCESSIBLE",
	[0x03] = "ASYMMETRIC ACCESS TRANSITION",
	[0x60] = "CONTROLLER PATHING ERROR",
	[0x70] = "HOST PATHING ERROR",
	[0x71] = "COMMAND ABORTED BY HOST",
}
local feature_names = {
	[0x01] = "Arbitration",
	[0x02] = "Power Management",
	[0x03] = "LBA Range Type",
	[0x04] = "Temperature Threshold",
	[0x05] = "Error Recovery",
	[0x06] = "Volatile Write Cache",
	[0x07] = "Number of Queues",
	[0x08] = "Interrupt Coalescing",
	[0x09] = "Interrupt Vector Configuration",
	[0x0a] = "Write Atomicity Normal",
	[0x0b] = "Async Event Configuration",
	[0x0c] = "Autonomous Power State Transition",
	[0x0d] = "Host Memory Buffer",
	[0x0e] = "Timestamp",
	[0x0f] = "Keep Alive Timer",
	[0x10] = "Host Controlled Thermal Management",
	[0x11] = "Non-Operational Power State Config",
	[0x12] = "Read Recovery Level Config",
	[0x13] = "Predictable Latency Mode Config",
	[0x14] = "Predictable Latency Mode Window",
	[0x15] = "LBA Status Information Report Interval",
	[0x16] = "Host Behavior Support",
	[0x17] = "Sanitize Config",
	[0x18] = "Endurance Group Event Configuration",
	[0x19] = "I/O Command Set Profile",
	[0x1a] = "Spinup Control",
	[0x7d] = "Enhanced Controller Metadata",
	[0x7e] = "Controller Metadata",
	[0x7f] = "Namespace Metadata",
	[0x80] = "Software Progress Marker",
	[0x81] = "Host Identifier",
	[0x82] = "Reservation Notification Mask",
	[0x83] = "Reservation Persistence",
	[0x84] = "Namespace Write Protection Config",
}
local log_page_names = {
	[0x00] = "Supported Log Pages",
	[0x01] = "Error Information",
	[0x02] = "SMART / Health Information",
	[0x03] = "Firmware Slot Information",
	[0x04] = "Changed Namespace List",
	[0x05] = "Commands Supported and Effects",
	[0x06] = "Device Self-test",
	[0x07] = "Telemetry Host-Initiated",
	[0x08] = "Telemetry Controller-Initiated",
	[0x09] = "Endurance Group Information",
	[0x0a] = "Predictable Latency Per NVM Set",
	[0x0b] = "Predictable Latency Event Aggregate",
	[0x0c] = "Asymmetric Namespace Access",
	[0x0d] = "Persistent Event Log",
	[0x0e] = "LBA Status Information",
	[0x0f] = "Endurance Group Event Aggregate",
	[0x10] = "Media Unit Status",
	[0x11] = "Supported Capacity Configuration List",
	[0x12] = "Feature Identifiers Supported and Effects",
	[0x13] = "NVMe-MI Commands Supported and Effects",
	[0x14] = "Command and Feature Lockdown",
	[0x15] = "Boot Partition",
	[0x16] = "Rotational Media Information",
	[0x70] = "Discovery",
	[0x80] = "Reservation Notification",
	[0x81] = "Sanitize Status",
	[0xbf] = "Changed Zone List",
}
local cns_names = {
	[0x00] = "Identify Namespace",
	[0x01] = "Identify Controller",
	[0x02] = "Active Namespace ID List",
	[0x03] = "Namespace Identification Descriptor List",
	[0x04] = "NVM Set List",
	[0x05] = "I/O Command Set Specific Namespace",
	[0x06] = "I/O Command Set Specific Controller",
	[0x07] = "I/O Command Set Specific Active Namespace ID List",
	[0x08] = "I/O Command Set Independent Namespace",
	[0x10] = "Allocated Namespace ID List",
	[0x11] = "Identify Allocated Namespace",
	[0x12] = "Namespace Attached Controller List",
	[0x13] = "Controller List",
	[0x14] = "Primary Controller Capabilities",
	[0x15] = "Secondary Controller List",
	[0x16] = "Namespace Granularity List",
	[0x17] = "UUID List",
	[0x18] = "Domain List",
	[0x19] = "Endurance Group List",
	[0x1a] = "I/O Command Set Specific Allocated Namespace ID List",
	[0x1b] = "I/O Command Set Specific Allocated Namespace",
	[0x1c] = "I/O Command Set Data Structure",
}
local aen_type_names = {
	[0x00] = "Error Status",
	[0x01] = "SMART / Health Status",
	[0x02] = "Notice",
	[0x06] = "I/O Command Set Specific Status",
	[0x07] = "Vendor Specific",
}
local aen_error_names = {
	[0x00] = "Write to Invalid Doorbell Register",
	[0x01] = "Invalid Doorbell Write Value",
	[0x02] = "Diagnostic Failure",
	[0x03] = "Persistent Internal Error",
	[0x04] = "Transient Internal Error",
	[0x05] = "Firmware Image Load Error",
}
local aen_smart_names = {
	[0x00] = "NVM Subsystem Reliability",
	[0x01] = "Temperature Threshold",
	[0x02] = "Spare Below Threshold",
}
local aen_notice_names = {
	[0x00] = "Namespace Attribute Changed",
	[0x01] = "Firmware Activation Starting",
	[0x02] = "Telemetry Log Changed",
	[0x03] = "Asymmetric Namespace Access Change",
	[0x04] = "Predictable Latency Event Aggregate Log Change",
	[0x05] = "LBA Status Information Alert",
	[0x06] = "Endurance Group Event Aggregate Log Page Change",
	[0xf0] = "Discovery Log Page Change",
}
local aen_io_cmd_set_names = {
	[0x00] = "Reservation Log Page Available",
	[0x01] = "Sanitize Operation Completed",
	[0x02] = "Sanitize Operation Completed With Unexpected Deallocation",
}
local tcp_pdu_names = {
	[0x00] = "ICReq",
	[0x01] = "ICResp",
	[0x02] = "H2CTermReq",
	[0x03] = "C2HTermReq",
	[0x04] = "CapsuleCmd",
	[0x05] = "CapsuleResp",
	[0x06] = "H2CData",
	[0x07] = "C2HData",
	[0x09] = "R2T",
}
local tcp_fes_names = {
	[0x01] = "Invalid PDU Header Field",
	[0x02] = "PDU Sequence Error",
	[0x03] = "Header Digest Error",
	[0x04] = "Data Transfer Out of Range",
	[0x05] = "Data Transfer Limit Exceeded",
	[0x06] = "Unsupported Parameter",
}
local reg_names = {
	[0x000] = "CAP",
	[0x008] = "VS",
	[0x00c] = "INTMS",
	[0x010] = "INTMC",
	[0x014] = "CC",
	[0x01c] = "CSTS",
	[0x020] = "NSSR",
	[0x024] = "AQA",
	[0x028] = "ASQ",
	[0x030] = "ACQ",
	[0x038] = "CMBLOC",
	[0x03c] = "CMBSZ",
	[0x040] = "BPINFO",
	[0x044] = "BPRSEL",
	[0x048] = "BPMBL",
	[0x050] = "CMBMSC",
	[0x058] = "CMBSTS",
	[0x05c] = "CMBEBS",
	[0x060] = "CMBSWTP",
	[0x064] = "NSSD",
	[0x068] = "CRTO",
	[0xe00] = "PMRCAP",
	[0xe04] = "PMRCTL",
	[0xe08] = "PMRSTS",
	[0xe0c] = "PMREBS",
	[0xe10] = "PMRSWTP",
	[0xe14] = "PMRMSCL",
	[0xe18] = "PMRMSCU",
}

local function admin_opc_name(opc)
	return admin_opc_names[opc] or (opc >= 0xc0 and "Vendor Specific" or "Unknown")
end

local function io_opc_name(opc)
	return io_opc_names[opc] or (opc >= 0x80 and "Vendor Specific" or "Unknown")
end

-- nvme_opc_name(): for Fabrics (7Fh) the command type's name
local function opc_name(admin, opc, fctype)
	if opc == 0x7f then
		return fabrics_type_names[fctype] or "Fabrics"
	end
	return admin and admin_opc_name(opc) or io_opc_name(opc)
end

-- nvme_status_name_ex(): sts is the status field without the phase bit
local function status_name(sts, opc)
	local sct, sc = bits(sts, 8, 7), band(sts, 0xff)
	if sct == 7 then return "VENDOR SPECIFIC" end
	if sct > 3 then return "UNKNOWN" end
	if sc >= 0xc0 then return "VENDOR SPECIFIC" end
	if sct == 0 then
		return sc_generic_names[sc] or "GENERIC UNKNOWN"
	elseif sct == 1 then
		local name
		if opc == 0x7f then name = sc_fabrics_names[sc] end
		name = name or sc_cmd_specific_names[sc]
		if not name and (sc < 0x80 or sc > 0x84) then name = sc_fabrics_names[sc] end
		return name or "COMMAND SPECIFIC UNKNOWN"
	elseif sct == 2 then
		return sc_media_names[sc] or "MEDIA ERROR UNKNOWN"
	end
	return sc_path_names[sc] or "PATH UNKNOWN"
end

local sct_names = {
	[0] = "GENERIC", [1] = "COMMAND SPECIFIC", [2] = "MEDIA ERROR", [3] = "PATH RELATED",
	[4] = "RESERVED", [5] = "RESERVED", [6] = "RESERVED", [7] = "VENDOR SPECIFIC",
}

local function feature_name(fid)
	return feature_names[fid] or (fid >= 0xc0 and "Vendor Specific" or "Unknown")
end

local function log_page_name(lid)
	return log_page_names[lid] or (lid >= 0xc0 and "Vendor Specific" or "Unknown")
end

local function aen_info_name(atype, info)
	local t = ({[0] = aen_error_names, [1] = aen_smart_names, [2] = aen_notice_names,
		    [6] = aen_io_cmd_set_names})[atype]
	if atype == 7 then return "Vendor Specific" end
	return t and t[info] or "Unknown"
end

-- Register names.  Doorbells (1000h on, CAP.DSTRD = 0: 4 bytes apart):
-- 1000h + (2n) * 4 is SQ n's tail, 1000h + (2n + 1) * 4 CQ n's head.
local function doorbell(offset)
	local rel = offset - 0x1000
	local idx = math.floor(rel / 4)
	local qid = math.floor(idx / 2)
	local sq = idx % 2 == 0
	local name = sq and string.format("SQ %d Tail Doorbell", qid) or string.format("CQ %d Head Doorbell", qid)
	if rel % 4 ~= 0 then
		name = name .. string.format(" +%d", rel % 4)
	end
	return name, qid, sq
end

local function reg_name(offset)
	if offset >= 0x1000 then
		return (doorbell(offset))
	end
	return reg_names[offset] or "Unknown"
end

-- A PCIe function's BAR0 (src/transport/pcie/pcie.h): registers, doorbells
-- from 1000h, the MSI-X table from 2000h (16 bytes a vector), the PBA from
-- 3000h, 4000h bytes in all.  The name, and the MSI-X vector if it is one.
local msix_fields = { [0] = "Message Address", "Message Upper Address", "Message Data", "Vector Control" }

local function plus(name, within)
	return within ~= 0 and string.format("%s +%d", name, within) or name
end

local function bar0_name(offset)
	if offset < 0x1000 then
		return reg_names[offset] or "Unknown"
	elseif offset < 0x2000 then
		return (doorbell(offset))
	elseif offset < 0x3000 then
		local rel = offset - 0x2000
		local vector = math.floor(rel / 16)
		local name = string.format("MSI-X %d %s", vector, msix_fields[math.floor(rel % 16 / 4)])
		return plus(name, rel % 4), vector
	elseif offset < 0x4000 then
		return plus("MSI-X PBA", offset - 0x3000)
	end
	return "Unknown"
end

-- Config space names (format.c's cfg_regs): the type 0 header and the
-- capabilities where pcie_cfg.c puts them: PM 40h, MSI-X 50h, PCIe 60h.
local cfg_regs = {
	{0x00, 2, "Vendor ID"}, {0x02, 2, "Device ID"}, {0x04, 2, "Command"}, {0x06, 2, "Status"},
	{0x08, 1, "Revision ID"}, {0x09, 1, "Programming Interface"}, {0x0a, 1, "Subclass"},
	{0x0b, 1, "Class Code"}, {0x0c, 1, "Cache Line Size"}, {0x0d, 1, "Latency Timer"},
	{0x0e, 1, "Header Type"}, {0x0f, 1, "BIST"}, {0x10, 4, "BAR0"}, {0x14, 4, "BAR0 Upper"},
	{0x18, 4, "BAR2"}, {0x1c, 4, "BAR3"}, {0x20, 4, "BAR4"}, {0x24, 4, "BAR5"},
	{0x28, 4, "CardBus CIS Pointer"}, {0x2c, 2, "Subsystem Vendor ID"}, {0x2e, 2, "Subsystem ID"},
	{0x30, 4, "Expansion ROM"}, {0x34, 1, "Capabilities Pointer"}, {0x3c, 1, "Interrupt Line"},
	{0x3d, 1, "Interrupt Pin"}, {0x3e, 1, "Min Grant"}, {0x3f, 1, "Max Latency"},
	{0x40, 1, "PM Capability ID"}, {0x41, 1, "PM Next Pointer"}, {0x42, 2, "PMC"},
	{0x44, 2, "PMCSR"}, {0x46, 1, "PMCSR_BSE"}, {0x47, 1, "PM Data"},
	{0x50, 1, "MSI-X Capability ID"}, {0x51, 1, "MSI-X Next Pointer"},
	{0x52, 2, "MSI-X Message Control"}, {0x54, 4, "MSI-X Table Offset"},
	{0x58, 4, "MSI-X PBA Offset"},
	{0x60, 1, "PCIe Capability ID"}, {0x61, 1, "PCIe Next Pointer"}, {0x62, 2, "PCIe Capabilities"},
	{0x64, 4, "Device Capabilities"}, {0x68, 2, "Device Control"}, {0x6a, 2, "Device Status"},
	{0x6c, 4, "Link Capabilities"}, {0x70, 2, "Link Control"}, {0x72, 2, "Link Status"},
	{0x74, 4, "Slot Capabilities"}, {0x78, 2, "Slot Control"}, {0x7a, 2, "Slot Status"},
	{0x7c, 2, "Root Control"}, {0x7e, 2, "Root Capabilities"}, {0x80, 4, "Root Status"},
	{0x84, 4, "Device Capabilities 2"}, {0x88, 2, "Device Control 2"}, {0x8a, 2, "Device Status 2"},
	{0x8c, 4, "Link Capabilities 2"}, {0x90, 2, "Link Control 2"}, {0x92, 2, "Link Status 2"},
	{0x94, 4, "Slot Capabilities 2"}, {0x98, 2, "Slot Control 2"}, {0x9a, 2, "Slot Status 2"},
	{0x100, 4, "Extended Capability Header"},
}

local function cfg_name(offset)
	for _, r in ipairs(cfg_regs) do
		if offset >= r[1] and offset < r[1] + r[2] then
			return plus(r[3], offset - r[1])
		end
	end
	return "Unknown"
end

-- the PCI address in a PCIe event's conn, as lspci writes it
local function pci_addr(conn)
	local bdf = band(conn, 0xffff)
	return string.format("%02x:%02x.%x", rshift(bdf, 8), bits(bdf, 3, 0x1f), band(bdf, 7))
end

local irq_type_names = { [0] = "MSI-X", [1] = "INTx" }
local irq_what_names = { [0] = "sent", [1] = "pending (masked)", [2] = "dropped", [3] = "deassert" }
local dma_what_names = { [0] = "data", [1] = "PRP list", [2] = "SGL segment", [3] = "SQ entry", [4] = "CQ entry" }
local xport_names = { [0] = "NVMe/TCP", [1] = "PCIe" }

-- ---- The protocol and its fields ------------------------------------------

local KIND = {
	CMD = 1, CPL = 2, PDU_RX = 3, PDU_TX = 4, REG_READ = 5, REG_WRITE = 6, AEN = 7,
	CONNECT = 8, DISCONNECT = 9, ACTION = 10, DATA = 11, CFG_READ = 12, CFG_WRITE = 13,
	IRQ = 14, DMA_ERR = 15,
}
local kind_names = {
	[1] = "CMD", [2] = "CPL", [3] = "PDU_RX", [4] = "PDU_TX", [5] = "REG_READ",
	[6] = "REG_WRITE", [7] = "AEN", [8] = "CONNECT", [9] = "DISCONNECT",
	[10] = "ACTION", [11] = "DATA", [12] = "CFG_READ", [13] = "CFG_WRITE", [14] = "IRQ",
	[15] = "DMA_ERR",
}
local XPORT_PCIE = 1
local REC_SIZE = 256 -- struct fdr_rec_event
local HDR_SIZE = 32  -- its fields before the union u

local fdr = Proto("frankendrive", "frankendrive flight recorder event")

local F = {}
local function field(key, ctor, abbr, ...)
	F[key] = ctor("frankendrive." .. abbr, ...)
end
local U8, U16, U32, U64 = ProtoField.uint8, ProtoField.uint16, ProtoField.uint32, ProtoField.uint64
local STR, BOOL, BYTES = ProtoField.string, ProtoField.bool, ProtoField.bytes

-- the event header
field("index", U64, "index", "Index", base.DEC, nil, nil, "Event sequence number (from 0)")
field("time", ProtoField.absolute_time, "time", "Time", base.UTC, "CLOCK_REALTIME of the event")
field("kind", U16, "kind", "Kind", base.DEC, kind_names)
field("kind_name", STR, "kind_name", "Kind name")
field("qid", U16, "qid", "Queue ID", base.DEC)
field("cntlid", U16, "cntlid", "Controller ID", base.DEC)
field("len", U16, "len", "Payload length", base.DEC)
field("conn", U32, "conn", "Connection", base.DEC)
field("cid", U16, "cid", "Command ID", base.HEX)
field("admin", BOOL, "admin", "Admin queue")
field("xport", U8, "xport", "Transport", base.DEC, xport_names)
-- a PCIe function's conn
field("pci", STR, "pci", "PCI address")
field("pci_bus", U8, "pci.bus", "PCI bus", base.HEX)
field("pci_dev", U8, "pci.dev", "PCI device", base.HEX)
field("pci_fn", U8, "pci.fn", "PCI function", base.DEC)
field("pci_gen", U16, "pci.gen", "Attach generation", base.DEC)
field("payload", BYTES, "payload", "Payload")
field("trailer", BYTES, "trailer", "Bytes after the event")
-- CMD: the SQE
field("cmd_opc", U8, "cmd.opc", "Opcode", base.HEX)
field("cmd_name", STR, "cmd.name", "Command")
field("cmd_fctype", U8, "cmd.fctype", "Fabrics command type", base.HEX)
field("cmd_flags", U8, "cmd.flags", "Flags", base.HEX)
field("cmd_fuse", U8, "cmd.fuse", "FUSE", base.DEC)
field("cmd_psdt", U8, "cmd.psdt", "PSDT", base.DEC)
field("cmd_cid", U16, "cmd.cid", "Command ID", base.HEX)
field("cmd_nsid", U32, "cmd.nsid", "Namespace ID", base.HEX)
field("cmd_cdw2", U32, "cmd.cdw2", "CDW2", base.HEX)
field("cmd_cdw3", U32, "cmd.cdw3", "CDW3", base.HEX)
field("cmd_mptr", U64, "cmd.mptr", "Metadata pointer", base.HEX)
field("cmd_prp1", U64, "cmd.prp1", "PRP entry 1", base.HEX)
field("cmd_prp2", U64, "cmd.prp2", "PRP entry 2", base.HEX)
field("cmd_sgl_addr", U64, "cmd.sgl.addr", "SGL address", base.HEX)
field("cmd_sgl_len", U32, "cmd.sgl.len", "SGL length", base.DEC)
field("cmd_sgl_type", U8, "cmd.sgl.type", "SGL descriptor type", base.HEX)
for i = 10, 15 do
	field("cmd_cdw" .. i, U32, "cmd.cdw" .. i, "CDW" .. i, base.HEX)
end
field("cmd_slba", U64, "cmd.slba", "Starting LBA", base.DEC)
field("cmd_nlb", U32, "cmd.nlb", "Number of logical blocks", base.DEC)
field("cmd_cns", STR, "cmd.cns", "CNS")
field("cmd_lid", STR, "cmd.lid", "Log page")
field("cmd_fid", STR, "cmd.fid", "Feature")
field("cmd_prop_offset", U32, "cmd.prop.offset", "Property offset", base.HEX)
field("cmd_prop_name", STR, "cmd.prop.name", "Property")
field("cmd_prop_size", U8, "cmd.prop.size", "Property size", base.DEC)
field("cmd_prop_value", U64, "cmd.prop.value", "Property value", base.HEX)
field("cmd_recfmt", U16, "cmd.connect.recfmt", "RECFMT", base.DEC)
field("cmd_cqid", U16, "cmd.connect.qid", "Connect QID", base.DEC)
field("cmd_sqsize", U16, "cmd.connect.sqsize", "SQSIZE", base.DEC)
field("cmd_cattr", U8, "cmd.connect.cattr", "CATTR", base.HEX)
field("cmd_kato", U32, "cmd.connect.kato", "KATO (ms)", base.DEC)
-- CPL: the CQE
field("cpl_cdw0", U32, "cpl.cdw0", "CDW0", base.HEX)
field("cpl_cdw1", U32, "cpl.cdw1", "CDW1", base.HEX)
field("cpl_sqhd", U16, "cpl.sqhd", "SQ head", base.DEC)
field("cpl_sqid", U16, "cpl.sqid", "SQ ID", base.DEC)
field("cpl_cid", U16, "cpl.cid", "Command ID", base.HEX)
field("cpl_phase", U8, "cpl.phase", "Phase", base.DEC)
field("cpl_status", U16, "cpl.status", "Status (STS)", base.HEX)
field("cpl_sc", U8, "cpl.sc", "Status code", base.HEX)
field("cpl_sct", U8, "cpl.sct", "Status code type", base.HEX, sct_names)
field("cpl_crd", U8, "cpl.crd", "CRD", base.DEC)
field("cpl_more", BOOL, "cpl.more", "More")
field("cpl_dnr", BOOL, "cpl.dnr", "Do not retry")
field("cpl_status_name", STR, "cpl.status_name", "Status")
field("cpl_latency", U64, "cpl.latency", "Latency (ns)", base.DEC)
field("cpl_opc", U8, "cpl.opc", "Command opcode", base.HEX)
field("cpl_fctype", U8, "cpl.fctype", "Command Fabrics type", base.HEX)
field("cpl_cmd_name", STR, "cpl.cmd_name", "Command")
-- REG_READ, REG_WRITE
field("reg_offset", U32, "reg.offset", "Offset", base.HEX)
field("reg_size", U32, "reg.size", "Size", base.DEC)
field("reg_value", U64, "reg.value", "Value", base.HEX)
field("reg_name", STR, "reg.name", "Register")
field("reg_write", BOOL, "reg.write", "Write")
field("cc_en", U8, "reg.cc.en", "EN", base.DEC)
field("cc_css", U8, "reg.cc.css", "CSS", base.DEC)
field("cc_mps", U8, "reg.cc.mps", "MPS", base.DEC)
field("cc_ams", U8, "reg.cc.ams", "AMS", base.DEC)
field("cc_shn", U8, "reg.cc.shn", "SHN", base.DEC, {[0] = "No notification", [1] = "Normal", [2] = "Abrupt", [3] = "Reserved"})
field("cc_iosqes", U8, "reg.cc.iosqes", "IOSQES", base.DEC)
field("cc_iocqes", U8, "reg.cc.iocqes", "IOCQES", base.DEC)
field("csts_rdy", U8, "reg.csts.rdy", "RDY", base.DEC)
field("csts_cfs", U8, "reg.csts.cfs", "CFS", base.DEC)
field("csts_shst", U8, "reg.csts.shst", "SHST", base.DEC, {[0] = "Normal operation", [1] = "Shutdown processing occurring", [2] = "Shutdown processing complete", [3] = "Reserved"})
field("csts_nssro", U8, "reg.csts.nssro", "NSSRO", base.DEC)
field("csts_pp", U8, "reg.csts.pp", "PP", base.DEC)
field("cap_mqes", U16, "reg.cap.mqes", "MQES", base.DEC)
field("cap_cqr", U8, "reg.cap.cqr", "CQR", base.DEC)
field("cap_ams", U8, "reg.cap.ams", "AMS", base.DEC)
field("cap_to", U8, "reg.cap.to", "TO (500 ms units)", base.DEC)
field("cap_dstrd", U8, "reg.cap.dstrd", "DSTRD", base.DEC)
field("cap_nssrs", U8, "reg.cap.nssrs", "NSSRS", base.DEC)
field("cap_css", U8, "reg.cap.css", "CSS", base.HEX)
field("cap_mpsmin", U8, "reg.cap.mpsmin", "MPSMIN", base.DEC)
field("cap_mpsmax", U8, "reg.cap.mpsmax", "MPSMAX", base.DEC)
field("vs_mjr", U16, "reg.vs.mjr", "MJR", base.DEC)
field("vs_mnr", U8, "reg.vs.mnr", "MNR", base.DEC)
field("vs_ter", U8, "reg.vs.ter", "TER", base.DEC)
field("aqa_asqs", U16, "reg.aqa.asqs", "ASQS", base.DEC)
field("aqa_acqs", U16, "reg.aqa.acqs", "ACQS", base.DEC)
field("db_qid", U16, "reg.db.qid", "Doorbell queue", base.DEC)
field("db_queue", STR, "reg.db.queue", "Doorbell of")
field("db_value", U32, "reg.db.value", "Doorbell value", base.DEC)
field("msix_vector", U16, "reg.msix.vector", "MSI-X table entry", base.DEC)
-- CFG_READ, CFG_WRITE
field("cfg_offset", U32, "cfg.offset", "Config space offset", base.HEX)
field("cfg_size", U32, "cfg.size", "Size", base.DEC)
field("cfg_value", U64, "cfg.value", "Value", base.HEX)
field("cfg_name", STR, "cfg.name", "Config register")
field("cfg_write", BOOL, "cfg.write", "Write")
-- IRQ
field("irq_vector", U16, "irq.vector", "MSI-X vector", base.DEC)
field("irq_type", U8, "irq.type", "Interrupt type", base.DEC, irq_type_names)
field("irq_what", U8, "irq.what", "What became of it", base.DEC, irq_what_names)
field("irq_cqid", U16, "irq.cqid", "Completion queue", base.DEC)
field("irq_entries", U16, "irq.entries", "CQ entries", base.DEC)
-- DMA_ERR
field("dma_addr", U64, "dma.addr", "Host address", base.HEX)
field("dma_len", U32, "dma.len", "Length", base.DEC)
field("dma_write", BOOL, "dma.write", "Drive writing host memory")
field("dma_what", U8, "dma.what", "Accessing", base.DEC, dma_what_names)
-- AEN
field("aen_cdw0", U32, "aen.cdw0", "CDW0", base.HEX)
field("aen_type", U8, "aen.type", "Event type", base.DEC, aen_type_names)
field("aen_type_name", STR, "aen.type_name", "Event type name")
field("aen_info", U8, "aen.info", "Event information", base.HEX)
field("aen_info_name", STR, "aen.info_name", "Event information name")
field("aen_lid", U8, "aen.lid", "Log page", base.HEX)
field("aen_lid_name", STR, "aen.lid_name", "Log page name")
-- CONNECT, DISCONNECT
field("text", STR, "text", "Text")
-- ACTION
field("action_who", STR, "action.who", "Who")
field("action_what", STR, "action.what", "What")
field("action_tap", U8, "action.tap", "Tap", base.DEC)
-- PDU_RX, PDU_TX
field("pdu_dir", STR, "pdu.dir", "Direction")
field("pdu_type", U8, "pdu.type", "PDU type", base.HEX, tcp_pdu_names)
field("pdu_type_name", STR, "pdu.type_name", "PDU type name")
field("pdu_flags", U8, "pdu.flags", "Flags", base.HEX)
field("pdu_hlen", U8, "pdu.hlen", "Header length", base.DEC)
field("pdu_pdo", U8, "pdu.pdo", "PDU data offset", base.DEC)
field("pdu_plen", U32, "pdu.plen", "PDU length", base.DEC)
field("pdu_cid", U16, "pdu.cid", "Command ID", base.HEX)
field("pdu_ttag", U16, "pdu.ttag", "Transfer tag", base.HEX)
field("pdu_datao", U32, "pdu.datao", "Data offset", base.DEC)
field("pdu_datal", U32, "pdu.datal", "Data length", base.DEC)
field("pdu_status", U16, "pdu.status", "Status (STS)", base.HEX)
field("pdu_fes", U16, "pdu.fes", "Fatal error status", base.HEX, tcp_fes_names)
field("pdu_hdr", BYTES, "pdu.hdr", "Header bytes")
-- DATA
field("data_offset", U32, "data.offset", "Offset in the command's data", base.DEC)
field("data_bytes", BYTES, "data.bytes", "Data")

local fields = {}
for _, f in pairs(F) do fields[#fields + 1] = f end
fdr.fields = fields

local E = {
	short = ProtoExpert.new("frankendrive.short", "Record shorter than struct fdr_rec_event (256 bytes)",
				expert.group.MALFORMED, expert.severity.ERROR),
	unknown_kind = ProtoExpert.new("frankendrive.unknown_kind", "Event kind this dissector does not know",
				       expert.group.UNDECODED, expert.severity.NOTE),
	status = ProtoExpert.new("frankendrive.status_error", "Command completed with an error",
				 expert.group.RESPONSE_CODE, expert.severity.WARN),
	error = ProtoExpert.new("frankendrive.dissector_bug", "frankendrive.lua could not decode this record",
				expert.group.MALFORMED, expert.severity.ERROR),
}
fdr.experts = { E.short, E.unknown_kind, E.status, E.error }

-- ---- Reading the record ------------------------------------------------------
--
-- Values are read from a copy padded with zeros to 256 bytes, so a short
-- record decodes as far as it goes and never raises an error; tree items get
-- a byte range only where the bytes are there.

local Rec = {}
Rec.__index = Rec

local function new_rec(tvb)
	local n = tvb:len()
	local ba = tvb:bytes(0, math.min(n, REC_SIZE))
	if ba:len() < REC_SIZE then
		ba:set_size(REC_SIZE)
	end
	return setmetatable({ tvb = tvb, n = n, ba = ba }, Rec)
end

function Rec:u8(o) return self.ba:get_index(o) end
function Rec:u16(o) return self.ba:get_index(o) + self.ba:get_index(o + 1) * 256 end
function Rec:u32(o) return self:u16(o) + self:u16(o + 2) * 65536 end
-- a 64-bit value as (low, high) 32-bit halves
function Rec:u64(o) return self:u32(o), self:u32(o + 4) end
function Rec:uint64(o) return UInt64.new(self:u32(o), self:u32(o + 4)) end

-- the tvb range [o, o + len) if it is all there
function Rec:range(o, len)
	if len > 0 and o + len <= self.n then
		return self.tvb(o, len)
	end
	return nil
end

-- Add a field with its value; highlight the bytes when they are there.
function Rec:add(tree, f, o, len, value, ...)
	local r = o and self:range(o, len)
	if r then
		return tree:add(f, r, value, ...)
	end
	-- not in the record (a short one) or not a field of it: generated
	local item = tree:add(f, value, ...)
	item:set_generated()
	return item
end

-- Text from the ring is untrusted: up to n bytes, stopping at NUL;
-- printable ASCII as is, \\ for a backslash, \xNN for the rest; "-" if empty.
function Rec:text(o, n)
	local out, used = {}, 0
	for i = 0, n - 1 do
		local c = self:u8(o + i)
		if c == 0 then break end
		used = i + 1
		if c == 0x5c then
			out[#out + 1] = "\\\\"
		elseif c >= 0x20 and c < 0x7f then
			out[#out + 1] = string.char(c)
		else
			out[#out + 1] = string.format("\\x%02x", c)
		end
	end
	if used == 0 then return "-", 0 end
	return table.concat(out), used
end

-- "%llx" and "%016llx" of a (low, high) pair
local function hex64(lo, hi)
	if hi ~= 0 then return string.format("%x%08x", hi, lo) end
	return string.format("%x", lo)
end
local function hex64_16(lo, hi)
	return string.format("%08x%08x", hi, lo)
end

-- nvmedump_format_latency() of a 64-bit (low, high) pair
local function latency_str(lo, hi)
	if hi >= 0x200000 then -- 2^53 ns and more: beyond a double, use UInt64
		local u = UInt64.new(lo, hi)
		return string.format("%s.%03ds", tostring(u / 1000000000), ((u % 1000000000) / 1000000):tonumber())
	end
	local ns = hi * 4294967296 + lo
	if ns < 1000 then
		return string.format("%dns", ns)
	elseif ns < 1000000 then
		return string.format("%d.%01dus", math.floor(ns / 1000), math.floor(ns % 1000 / 100))
	elseif ns < 1000000000 then
		return string.format("%d.%02dms", math.floor(ns / 1000000), math.floor(ns % 1000000 / 10000))
	end
	return string.format("%d.%03ds", math.floor(ns / 1000000000), math.floor(ns % 1000000000 / 1000000))
end

-- ---- CMD ----------------------------------------------------------------------

local SQE = 32 -- u.cmd.sqe

local function dptr(rec, t)
	local flags = rec:u8(SQE + 1)
	local psdt = rshift(flags, 6)
	local s
	if psdt == 0 then
		local p1l, p1h = rec:u64(SQE + 24)
		local p2l, p2h = rec:u64(SQE + 32)
		rec:add(t, F.cmd_prp1, SQE + 24, 8, rec:uint64(SQE + 24))
		rec:add(t, F.cmd_prp2, SQE + 32, 8, rec:uint64(SQE + 32))
		s = string.format(" prp1=%s prp2=%s", hex64(p1l, p1h), hex64(p2l, p2h))
	else
		local al, ah = rec:u64(SQE + 24)
		local len, stype = rec:u32(SQE + 32), rec:u8(SQE + 39)
		rec:add(t, F.cmd_sgl_addr, SQE + 24, 8, rec:uint64(SQE + 24))
		rec:add(t, F.cmd_sgl_len, SQE + 32, 4, len)
		rec:add(t, F.cmd_sgl_type, SQE + 39, 1, stype)
		s = string.format(" SGL=%02x addr=%s len=%d", stype, hex64(al, ah), len)
	end
	return s
end

local function fabrics_cmd(rec, t, fctype)
	local cdw10, cdw11, cdw12, cdw13 = rec:u32(SQE + 40), rec:u32(SQE + 44), rec:u32(SQE + 48), rec:u32(SQE + 52)
	if fctype == 0x04 or fctype == 0x00 then -- Property Get, Property Set
		local size = band(cdw10, 7) ~= 0 and 8 or 4
		local name = reg_name(cdw11)
		local s = string.format(" OFST=%04x SIZE=%d", cdw11, size)
		rec:add(t, F.cmd_prop_offset, SQE + 44, 4, cdw11)
		rec:add(t, F.cmd_prop_name, SQE + 44, 4, name)
		rec:add(t, F.cmd_prop_size, SQE + 40, 1, size)
		if fctype == 0x00 then
			if size == 8 then
				s = s .. " VALUE=" .. hex64_16(cdw12, cdw13)
				rec:add(t, F.cmd_prop_value, SQE + 48, 8, UInt64.new(cdw12, cdw13))
			else
				s = s .. string.format(" VALUE=%08x", cdw12)
				rec:add(t, F.cmd_prop_value, SQE + 48, 4, UInt64.new(cdw12, 0))
			end
		end
		return s .. " (" .. reg_name(cdw11) .. ")"
	elseif fctype == 0x01 then -- Connect
		local recfmt, qid, sqsize, cattr = band(cdw10, 0xffff), rshift(cdw10, 16), band(cdw11, 0xffff), bits(cdw11, 16, 0xff)
		rec:add(t, F.cmd_recfmt, SQE + 40, 2, recfmt)
		rec:add(t, F.cmd_cqid, SQE + 42, 2, qid)
		rec:add(t, F.cmd_sqsize, SQE + 44, 2, sqsize)
		rec:add(t, F.cmd_cattr, SQE + 46, 1, cattr)
		rec:add(t, F.cmd_kato, SQE + 48, 4, cdw12)
		return string.format(" RECFMT=%d QID=%d SQSIZE=%d CATTR=%02x KATO=%d", recfmt, qid, sqsize, cattr, cdw12)
			.. dptr(rec, t)
	end
	return dptr(rec, t) .. string.format(" CDW10=%08x CDW11=%08x", cdw10, cdw11)
end

local lba_opcodes = { [0x01] = true, [0x02] = true, [0x04] = true, [0x05] = true, [0x08] = true, [0x0c] = true }

local function dissect_cmd(rec, t)
	local admin = rec:u8(30) ~= 0
	local opc, flags, cid, nsid = rec:u8(SQE), rec:u8(SQE + 1), rec:u16(SQE + 2), rec:u32(SQE + 4)
	local cdw10, cdw11, cdw12 = rec:u32(SQE + 40), rec:u32(SQE + 44), rec:u32(SQE + 48)
	local s = string.format("%s SQ=%d CID=%04x OPC=", admin and "ADM" or "IO", rec:u16(18), cid)

	rec:add(t, F.cmd_opc, SQE, 1, opc)
	if opc == 0x7f then
		local fctype = band(nsid, 0xff)
		local name = opc_name(admin, opc, fctype)
		rec:add(t, F.cmd_name, SQE, 1, name)
		rec:add(t, F.cmd_fctype, SQE + 4, 1, fctype)
		rec:add(t, F.cmd_cid, SQE + 2, 2, cid)
		return s .. string.format("%s FCTYPE=%02x", name, fctype) .. fabrics_cmd(rec, t, fctype), name
	end
	local name = admin and admin_opc_name(opc) or io_opc_name(opc)
	rec:add(t, F.cmd_name, SQE, 1, name)
	s = s .. name
	if name == "Unknown" or name == "Vendor Specific" then
		s = s .. string.format(" (%02xh)", opc)
	end
	rec:add(t, F.cmd_flags, SQE + 1, 1, flags)
	rec:add(t, F.cmd_fuse, SQE + 1, 1, band(flags, 3))
	rec:add(t, F.cmd_psdt, SQE + 1, 1, rshift(flags, 6))
	rec:add(t, F.cmd_cid, SQE + 2, 2, cid)
	rec:add(t, F.cmd_nsid, SQE + 4, 4, nsid)
	rec:add(t, F.cmd_cdw2, SQE + 8, 4, rec:u32(SQE + 8))
	rec:add(t, F.cmd_cdw3, SQE + 12, 4, rec:u32(SQE + 12))
	rec:add(t, F.cmd_mptr, SQE + 16, 8, rec:uint64(SQE + 16))
	s = s .. string.format(" NSID=%#x", nsid)
	if band(flags, 3) ~= 0 then
		s = s .. string.format(" FUSE=%d", band(flags, 3))
	end
	if not admin and lba_opcodes[opc] then
		local slba = UInt64.new(cdw10, cdw11)
		local nlb = band(cdw12, 0xffff) + 1
		rec:add(t, F.cmd_slba, SQE + 40, 8, slba)
		rec:add(t, F.cmd_nlb, SQE + 48, 2, nlb)
		s = s .. string.format(" LBA=%s NLB=%d", tostring(slba), nlb)
		if opc ~= 0x08 and opc ~= 0x04 and opc ~= 0x0c then
			s = s .. dptr(rec, t)
		end
		return s, name
	end
	s = s .. dptr(rec, t)
	for i = 10, 15 do
		rec:add(t, F["cmd_cdw" .. i], SQE + 40 + (i - 10) * 4, 4, rec:u32(SQE + 40 + (i - 10) * 4))
	end
	s = s .. string.format(" CDW10=%08x", cdw10)
	if cdw11 ~= 0 then
		s = s .. string.format(" CDW11=%08x", cdw11)
	end
	if admin then
		local arg = band(cdw10, 0xff)
		if opc == 0x06 then
			local n = cns_names[arg] or "Unknown"
			rec:add(t, F.cmd_cns, SQE + 40, 1, n)
			s = s .. " (" .. n .. ")"
		elseif opc == 0x02 then
			local n = log_page_name(arg)
			rec:add(t, F.cmd_lid, SQE + 40, 1, n)
			s = s .. " (" .. n .. ")"
		elseif opc == 0x09 or opc == 0x0a then
			local n = feature_name(arg)
			rec:add(t, F.cmd_fid, SQE + 40, 1, n)
			s = s .. " (" .. n .. ")"
		end
	end
	return s, name
end

-- ---- CPL, AEN -------------------------------------------------------------------

local CQE = 32 -- u.cpl.cqe

local function dissect_cpl(rec, t, pinfo)
	local admin = rec:u8(30) ~= 0
	local cdw0, cdw1, cid, status = rec:u32(CQE), rec:u32(CQE + 4), rec:u16(CQE + 12), rec:u16(CQE + 14)
	local sts = rshift(status, 1)
	local lat = latency_str(rec:u64(CQE + 16))
	local opc, fctype = rec:u8(CQE + 24), rec:u8(CQE + 25)
	local name = opc_name(admin, opc, fctype)

	rec:add(t, F.cpl_cdw0, CQE, 4, cdw0)
	rec:add(t, F.cpl_cdw1, CQE + 4, 4, cdw1)
	rec:add(t, F.cpl_sqhd, CQE + 8, 2, rec:u16(CQE + 8))
	rec:add(t, F.cpl_sqid, CQE + 10, 2, rec:u16(CQE + 10))
	rec:add(t, F.cpl_cid, CQE + 12, 2, cid)
	rec:add(t, F.cpl_phase, CQE + 14, 1, band(status, 1))
	local st = rec:add(t, F.cpl_status, CQE + 14, 2, sts)
	rec:add(st, F.cpl_sc, CQE + 14, 2, band(sts, 0xff))
	rec:add(st, F.cpl_sct, CQE + 14, 2, bits(sts, 8, 7))
	rec:add(st, F.cpl_crd, CQE + 14, 2, bits(sts, 11, 3))
	rec:add(st, F.cpl_more, CQE + 14, 2, band(sts, 0x2000) ~= 0)
	rec:add(st, F.cpl_dnr, CQE + 14, 2, band(sts, 0x4000) ~= 0)
	local sname = sts == 0 and "SUCCESS" or status_name(sts, opc)
	rec:add(st, F.cpl_status_name, CQE + 14, 2, sname)
	if sts ~= 0 then
		st:add_proto_expert_info(E.status, "Status " .. string.format("0x%04x", sts) .. ": " .. sname)
	end
	rec:add(t, F.cpl_latency, CQE + 16, 8, rec:uint64(CQE + 16)):append_text(" (" .. lat .. ")")
	rec:add(t, F.cpl_opc, CQE + 24, 1, opc)
	rec:add(t, F.cpl_fctype, CQE + 25, 1, fctype)
	rec:add(t, F.cpl_cmd_name, CQE + 24, 1, name)

	local s = string.format("CPL SQ=%d CID=%04x P=%d STS=0x%04x CDW0=%#x", rec:u16(18), cid, band(status, 1), sts, cdw0)
	if cdw1 ~= 0 then
		s = s .. string.format(" CDW1=%#x", cdw1)
	end
	if sts ~= 0 then
		s = s .. " (" .. sname .. ")"
	end
	return s .. " LAT=" .. lat .. " OPC=" .. name
end

local function dissect_aen(rec, t)
	local cdw0 = rec:u32(CQE)
	local atype, info, lid = band(cdw0, 7), bits(cdw0, 8, 0xff), bits(cdw0, 16, 0xff)
	local tname = aen_type_names[atype] or "Unknown"
	local iname = aen_info_name(atype, info)
	local lname = log_page_name(lid)
	rec:add(t, F.aen_cdw0, CQE, 4, cdw0)
	rec:add(t, F.aen_type, CQE, 1, atype)
	rec:add(t, F.aen_type_name, CQE, 1, tname)
	rec:add(t, F.aen_info, CQE + 1, 1, info)
	rec:add(t, F.aen_info_name, CQE + 1, 1, iname)
	rec:add(t, F.aen_lid, CQE + 2, 1, lid)
	rec:add(t, F.aen_lid_name, CQE + 2, 1, lname)
	return string.format("AEN cdw0=0x%08x (%s: %s) LID=0x%02x", cdw0, tname, iname, lid)
end

-- ---- REG_READ, REG_WRITE ----------------------------------------------------------

local REG = 32 -- u.reg: offset, size, value

local function dissect_reg(rec, t, write)
	local off, size = rec:u32(REG), rec:u32(REG + 4)
	local lo, hi = rec:u64(REG + 8)
	local pcie = rec:u8(31) == XPORT_PCIE
	local name, vector
	local vt

	if pcie then
		name, vector = bar0_name(off)
	else
		name = reg_name(off)
	end
	rec:add(t, F.reg_name, REG, 4, name)
	rec:add(t, F.reg_offset, REG, 4, off)
	rec:add(t, F.reg_size, REG + 4, 4, size)
	rec:add(t, F.reg_write, nil, 0, write)
	vt = rec:add(t, F.reg_value, REG + 8, 8, rec:uint64(REG + 8))

	local V = REG + 8
	local desc
	if vector then
		rec:add(vt, F.msix_vector, REG, 4, vector)
		desc = string.format("0x%08x", lo)
	elseif pcie and off >= 0x2000 then -- the PBA, or beyond BAR0
		desc = (size == 8 or hi ~= 0) and "0x" .. hex64_16(lo, hi) or string.format("0x%08x", lo)
	elseif off >= 0x1000 then
		local dname, qid, sq = doorbell(off)
		rec:add(vt, F.db_qid, REG, 4, qid)
		rec:add(vt, F.db_queue, REG, 4, sq and "SQ Tail" or "CQ Head")
		rec:add(vt, F.db_value, V, 4, lo)
		desc = string.format("%d", lo)
	elseif off == 0x14 then -- CC
		local en, css, mps, ams = band(lo, 1), bits(lo, 4, 7), bits(lo, 7, 0xf), bits(lo, 11, 7)
		local shn, iosqes, iocqes = bits(lo, 14, 3), bits(lo, 16, 0xf), bits(lo, 20, 0xf)
		rec:add(vt, F.cc_en, V, 4, en)
		rec:add(vt, F.cc_css, V, 4, css)
		rec:add(vt, F.cc_mps, V, 4, mps)
		rec:add(vt, F.cc_ams, V, 4, ams)
		rec:add(vt, F.cc_shn, V, 4, shn)
		rec:add(vt, F.cc_iosqes, V, 4, iosqes)
		rec:add(vt, F.cc_iocqes, V, 4, iocqes)
		desc = string.format("EN=%d CSS=%d MPS=%d AMS=%d SHN=%d IOSQES=%d IOCQES=%d", en, css, mps, ams, shn, iosqes, iocqes)
	elseif off == 0x1c then -- CSTS
		local rdy, cfs, shst, nssro, pp = band(lo, 1), bits(lo, 1, 1), bits(lo, 2, 3), bits(lo, 4, 1), bits(lo, 5, 1)
		rec:add(vt, F.csts_rdy, V, 4, rdy)
		rec:add(vt, F.csts_cfs, V, 4, cfs)
		rec:add(vt, F.csts_shst, V, 4, shst)
		rec:add(vt, F.csts_nssro, V, 4, nssro)
		rec:add(vt, F.csts_pp, V, 4, pp)
		desc = string.format("RDY=%d CFS=%d SHST=%d", rdy, cfs, shst)
		if nssro ~= 0 then desc = desc .. " NSSRO=1" end
		if pp ~= 0 then desc = desc .. " PP=1" end
	elseif off == 0x00 then -- CAP
		local mqes, cqr, ams, to = band(lo, 0xffff), bits(lo, 16, 1), bits(lo, 17, 3), bits(lo, 24, 0xff)
		local dstrd, nssrs, css = band(hi, 0xf), bits(hi, 4, 1), bits(hi, 5, 0xff)
		local mpsmin, mpsmax = bits(hi, 16, 0xf), bits(hi, 20, 0xf)
		rec:add(vt, F.cap_mqes, V, 2, mqes)
		rec:add(vt, F.cap_cqr, V + 2, 1, cqr)
		rec:add(vt, F.cap_ams, V + 2, 1, ams)
		rec:add(vt, F.cap_to, V + 3, 1, to)
		rec:add(vt, F.cap_dstrd, V + 4, 1, dstrd)
		rec:add(vt, F.cap_nssrs, V + 4, 1, nssrs)
		rec:add(vt, F.cap_css, V + 4, 2, css)
		rec:add(vt, F.cap_mpsmin, V + 6, 1, mpsmin)
		rec:add(vt, F.cap_mpsmax, V + 6, 1, mpsmax)
		desc = string.format("MQES=%d CQR=%d AMS=%d TO=%d DSTRD=%d NSSRS=%d CSS=0x%02x MPSMIN=%d MPSMAX=%d",
				     mqes, cqr, ams, to, dstrd, nssrs, css, mpsmin, mpsmax)
	elseif off == 0x08 then -- VS
		local mjr, mnr, ter = rshift(lo, 16), bits(lo, 8, 0xff), band(lo, 0xff)
		rec:add(vt, F.vs_mjr, V + 2, 2, mjr)
		rec:add(vt, F.vs_mnr, V + 1, 1, mnr)
		rec:add(vt, F.vs_ter, V, 1, ter)
		desc = string.format("%d.%d.%d", mjr, mnr, ter)
	elseif off == 0x24 then -- AQA
		local asqs, acqs = band(lo, 0xfff), bits(lo, 16, 0xfff)
		rec:add(vt, F.aqa_asqs, V, 2, asqs)
		rec:add(vt, F.aqa_acqs, V + 2, 2, acqs)
		desc = string.format("ASQS=%d ACQS=%d", asqs, acqs)
	elseif size == 8 or hi ~= 0 then
		desc = "0x" .. hex64_16(lo, hi)
	else
		desc = string.format("0x%08x", lo)
	end
	local who = name
	if name == "Unknown" then
		who = string.format("Register %04xh", off)
	end
	return string.format("%s %s: %s", who, write and "write" or "read", desc)
end

-- ---- CFG_READ, CFG_WRITE, IRQ, DMA_ERR: a PCIe function's ---------------------------

-- format.c's put_sized(): as many hex digits as the access has bytes
local function sized_hex(size, lo, hi)
	if size == 1 then return string.format("%02x", band(lo, 0xff)) end
	if size == 2 then return string.format("%04x", band(lo, 0xffff)) end
	if size == 8 then return hex64_16(lo, hi) end
	return string.format("%08x", lo)
end

local function dissect_cfg(rec, t, write)
	local off, size = rec:u32(REG), rec:u32(REG + 4)
	local lo, hi = rec:u64(REG + 8)
	local name = cfg_name(off)

	rec:add(t, F.cfg_name, REG, 4, name)
	rec:add(t, F.cfg_offset, REG, 4, off)
	rec:add(t, F.cfg_size, REG + 4, 4, size)
	rec:add(t, F.cfg_write, nil, 0, write)
	rec:add(t, F.cfg_value, REG + 8, 8, rec:uint64(REG + 8))
	return string.format("CFG %04x %s %s (%s)", off, write and "<-" or "->", sized_hex(size, lo, hi), name)
end

local IRQ = 32 -- u.irq: vector, type, what, cqid, entries

local function dissect_irq(rec, t)
	local vector, itype, what = rec:u16(IRQ), rec:u8(IRQ + 2), rec:u8(IRQ + 3)
	local cqid, entries = rec:u16(IRQ + 4), rec:u16(IRQ + 6)
	local s

	rec:add(t, F.irq_type, IRQ + 2, 1, itype)
	rec:add(t, F.irq_vector, IRQ, 2, vector)
	rec:add(t, F.irq_cqid, IRQ + 4, 2, cqid)
	rec:add(t, F.irq_entries, IRQ + 6, 2, entries)
	rec:add(t, F.irq_what, IRQ + 3, 1, what)
	if itype == 0 then
		s = string.format("IRQ MSI-X vector=%d", vector)
	elseif itype == 1 then
		s = "IRQ INTx"
	else
		s = string.format("IRQ type=%d vector=%d", itype, vector)
	end
	s = s .. string.format(" CQ=%d", cqid)
	if what ~= 3 then -- releasing the INTx level covers no entries
		s = s .. string.format(" entries=%d", entries)
	end
	return s .. " " .. (irq_what_names[what] or string.format("what=%d", what))
end

local DMA = 32 -- u.dma: addr, len, write, what

local function dissect_dma(rec, t)
	local al, ah = rec:u64(DMA)
	local len, write, what = rec:u32(DMA + 8), rec:u8(DMA + 12) ~= 0, rec:u8(DMA + 13)
	local qid, s

	rec:add(t, F.dma_addr, DMA, 8, rec:uint64(DMA))
	rec:add(t, F.dma_len, DMA + 8, 4, len)
	rec:add(t, F.dma_write, DMA + 12, 1, write)
	rec:add(t, F.dma_what, DMA + 13, 1, what)
	qid = rec:u16(18)
	if what == 3 then -- an SQ entry: no command yet
		s = string.format("DMA SQ=%d", qid)
	else
		s = string.format("DMA SQ=%d CID=%04x", qid, rec:u16(28))
	end
	s = s .. string.format(" ERR %s addr=%s len=%d", write and "write" or "read", hex64(al, ah), len)
	local wname = dma_what_names[what]
	return s .. (wname and " (" .. wname .. ")" or string.format(" (what=%d)", what))
end

-- ---- CONNECT, DISCONNECT, ACTION, DATA, PDU ------------------------------------------

local U = 32 -- the union u

local function dissect_text(rec, t, kind)
	local len = math.min(rec:u16(22), REC_SIZE - U)
	local s, used = rec:text(U, len)
	local what = kind == KIND.CONNECT and "CONN" or "DISC"
	rec:add(t, F.text, U, used, s)
	if rec:u8(31) == XPORT_PCIE then
		local conn = rec:u32(24)
		return string.format("%s %s gen=%d %s", what, pci_addr(conn), rshift(conn, 16), s)
	end
	return string.format("%s conn=%d %s", what, rec:u32(24), s)
end

local function dissect_action(rec, t)
	local who, wn = rec:text(U, 32)
	local what, an = rec:text(U + 32, 128)
	local tap = rec:u8(U + 160)
	rec:add(t, F.action_who, U, wn, who)
	rec:add(t, F.action_what, U + 32, an, what)
	rec:add(t, F.action_tap, U + 160, 1, tap)
	return string.format("ACT SQ=%d CID=%04x tap=%d %s: %s", rec:u16(18), rec:u16(28), tap, who, what)
end

local function dissect_data(rec, t)
	local len = rec:u16(22)
	local n = math.min(len, REC_SIZE - U - 4)
	local show = math.min(n, 32)
	local off = rec:u32(U)
	rec:add(t, F.data_offset, U, 4, off)
	local r = rec:range(U + 4, n)
	if r then t:add(F.data_bytes, r) end
	local s = string.format("DATA SQ=%d CID=%04x off=%d len=%d", rec:u16(18), rec:u16(28), off, len)
	if show > 0 then
		local hex = {}
		for i = 0, show - 1 do hex[#hex + 1] = string.format("%02x", rec:u8(U + 4 + i)) end
		s = s .. " " .. table.concat(hex)
	end
	if n > show then s = s .. "..." end
	return s
end

local function dissect_pdu(rec, t, kind)
	local n = math.min(rec:u16(22), 128)
	local h = U
	local dir = kind == KIND.PDU_RX and "RX" or "TX"
	rec:add(t, F.pdu_dir, nil, 0, dir)
	local r = rec:range(h, n)
	if r then t:add(F.pdu_hdr, r) end
	if n < 8 then
		return string.format("PDU %s short conn=%d len=%d", dir, rec:u32(24), rec:u16(22))
	end
	local ptype, flags, hlen, pdo, plen = rec:u8(h), rec:u8(h + 1), rec:u8(h + 2), rec:u8(h + 3), rec:u32(h + 4)
	local pname = tcp_pdu_names[ptype] or "Unknown"
	rec:add(t, F.pdu_type, h, 1, ptype)
	rec:add(t, F.pdu_type_name, h, 1, pname)
	rec:add(t, F.pdu_flags, h + 1, 1, flags)
	rec:add(t, F.pdu_hlen, h + 2, 1, hlen)
	rec:add(t, F.pdu_pdo, h + 3, 1, pdo)
	rec:add(t, F.pdu_plen, h + 4, 4, plen)
	local s = string.format("PDU %s %s conn=%d hlen=%d pdo=%d plen=%d flags=0x%02x", dir, pname, rec:u32(24), hlen, pdo, plen, flags)
	if ptype == 0x04 and n >= 12 then
		rec:add(t, F.pdu_cid, h + 10, 2, rec:u16(h + 10))
		s = s .. string.format(" CID=%04x", rec:u16(h + 10))
	elseif ptype == 0x05 and n >= 24 then
		local sts = rshift(rec:u16(h + 22), 1)
		rec:add(t, F.pdu_cid, h + 20, 2, rec:u16(h + 20))
		rec:add(t, F.pdu_status, h + 22, 2, sts)
		s = s .. string.format(" CID=%04x STS=0x%04x", rec:u16(h + 20), sts)
	elseif (ptype == 0x06 or ptype == 0x07 or ptype == 0x09) and n >= 20 then
		rec:add(t, F.pdu_cid, h + 8, 2, rec:u16(h + 8))
		rec:add(t, F.pdu_ttag, h + 10, 2, rec:u16(h + 10))
		rec:add(t, F.pdu_datao, h + 12, 4, rec:u32(h + 12))
		rec:add(t, F.pdu_datal, h + 16, 4, rec:u32(h + 16))
		s = s .. string.format(" CID=%04x TTAG=%04x off=%d len=%d", rec:u16(h + 8), rec:u16(h + 10), rec:u32(h + 12), rec:u32(h + 16))
	elseif (ptype == 0x02 or ptype == 0x03) and n >= 10 then
		local fes = rec:u16(h + 8)
		rec:add(t, F.pdu_fes, h + 8, 2, fes)
		s = s .. string.format(" FES=%#x (%s)", fes, tcp_fes_names[fes] or "Unknown")
	end
	return s
end

-- ---- The dissector --------------------------------------------------------------

local function dissect(tvb, pinfo, tree)
	local rec = new_rec(tvb)
	local t = tree:add(fdr, tvb(0, math.min(rec.n, REC_SIZE)))
	local kind = rec:u16(16)
	local idx_lo, idx_hi = rec:u64(0)
	local wall_lo, wall_hi = rec:u64(8)

	if rec.n < REC_SIZE then
		t:add_proto_expert_info(E.short, string.format("Record is %d bytes, struct fdr_rec_event has 256", rec.n))
	end
	rec:add(t, F.index, 0, 8, rec:uint64(0))
	local wall = rec:uint64(8)
	local secs = (wall / 1000000000):tonumber()
	local nsecs = (wall % 1000000000):tonumber()
	rec:add(t, F.time, 8, 8, NSTime.new(secs, nsecs))
	rec:add(t, F.kind, 16, 2, kind)
	rec:add(t, F.kind_name, 16, 2, kind_names[kind] or string.format("kind %d", kind))
	rec:add(t, F.qid, 18, 2, rec:u16(18))
	rec:add(t, F.cntlid, 20, 2, rec:u16(20))
	rec:add(t, F.len, 22, 2, rec:u16(22))
	rec:add(t, F.conn, 24, 4, rec:u32(24))
	rec:add(t, F.cid, 28, 2, rec:u16(28))
	rec:add(t, F.admin, 30, 1, rec:u8(30) ~= 0)
	rec:add(t, F.xport, 31, 1, rec:u8(31))
	if rec:u8(31) == XPORT_PCIE then
		local conn = rec:u32(24)
		local bdf = band(conn, 0xffff)
		local pt = rec:add(t, F.pci, 24, 2, pci_addr(conn))
		rec:add(pt, F.pci_bus, 25, 1, rshift(bdf, 8))
		rec:add(pt, F.pci_dev, 24, 1, bits(bdf, 3, 0x1f))
		rec:add(pt, F.pci_fn, 24, 1, band(bdf, 7))
		rec:add(pt, F.pci_gen, 26, 2, rshift(conn, 16))
	end

	local u = t:add(rec:range(U, REC_SIZE - U) or tvb(0, 0), kind_names[kind] or string.format("kind %d", kind))
	local info
	if rec.n < HDR_SIZE then
		info = string.format("short record (%d bytes)", rec.n)
	elseif kind == KIND.CMD then
		info = dissect_cmd(rec, u)
	elseif kind == KIND.CPL then
		info = dissect_cpl(rec, u, pinfo)
	elseif kind == KIND.PDU_RX or kind == KIND.PDU_TX then
		info = dissect_pdu(rec, u, kind)
	elseif kind == KIND.REG_READ or kind == KIND.REG_WRITE then
		info = dissect_reg(rec, u, kind == KIND.REG_WRITE)
	elseif kind == KIND.AEN then
		info = dissect_aen(rec, u)
	elseif kind == KIND.CONNECT or kind == KIND.DISCONNECT then
		info = dissect_text(rec, u, kind)
	elseif kind == KIND.ACTION then
		info = dissect_action(rec, u)
	elseif kind == KIND.DATA then
		info = dissect_data(rec, u)
	elseif kind == KIND.CFG_READ or kind == KIND.CFG_WRITE then
		info = dissect_cfg(rec, u, kind == KIND.CFG_WRITE)
	elseif kind == KIND.IRQ then
		info = dissect_irq(rec, u)
	elseif kind == KIND.DMA_ERR then
		info = dissect_dma(rec, u)
	else
		-- a kind from a newer drive: the raw payload
		local r = rec:range(U, REC_SIZE - U)
		if r then u:add(F.payload, r) end
		u:add_proto_expert_info(E.unknown_kind)
		info = string.format("kind %d len=%d", kind, rec:u16(22))
	end
	if rec.n > REC_SIZE then
		t:add(F.trailer, tvb(REC_SIZE))
	end
	t:append_text(string.format(", [%s] %s", tostring(rec:uint64(0)), info))
	return info
end

function fdr.dissector(tvb, pinfo, tree)
	pinfo.cols.protocol = "frankendrive"
	if tvb:len() == 0 then
		pinfo.cols.info = "empty record"
		return 0
	end
	local ok, info = pcall(dissect, tvb, pinfo, tree)
	if not ok then
		-- a bug here must not hide the record: say so, show the bytes
		local t = tree:add(fdr, tvb())
		t:add_proto_expert_info(E.error, "frankendrive.lua: " .. tostring(info))
		t:add(F.payload, tvb())
		info = "undecoded record"
	end
	pinfo.cols.info = info
	return tvb:len()
end
