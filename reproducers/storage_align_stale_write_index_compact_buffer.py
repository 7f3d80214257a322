"""TVM 0.27.0.post1: exception at lower in s_tir.CompactBufferAllocation: IndexError: Index N out of bounds N

Target: llvm. Passes: the pipeline in CASE['pipeline'] (the minimal lowering plus s_tir.PlanAndUpdateBufferAllocationLocation, s_tir.CompactBufferAllocation).
Expected: the program compiles and runs (TVM's parser and verifier accept it).
What happens: TVM raises IndexError: Index N out of bounds N in s_tir.CompactBufferAllocation.

Not reduced: tzer reduced only the pipeline (27 checks). The program is TVM's JSON, as tzer stored it (its buffers
carry duplicated and dotted names, e.g. two adaptive_pool_max and adaptive_pool_max.rf).
Found by tzer: finding 19, seen 1 time(s); generator spp.

Bug: `Schedule.storage_align` records its write index in the block annotation `buffer_dim_align` ([[1, 2, 2, 1]]:
write buffer 1 of block adaptive_pool_max_l1, whose writes (after the mutations rfactor, insert_cast, fuse, rfactor)
are its own block-local rf buffer adaptive_pool_max.rf, then adaptive_pool_max). Lowering recomputes the block's
writes and drops the block-local buffer, so the recorded index 1 goes stale and s_tir.CompactBufferAllocation fails
with IndexError on a module that passes verify_well_formed.
Deciding change: `Schedule.unannotate(block, "buffer_dim_align")` on adaptive_pool_max_l1 -> compiles and runs
(storage_align with write index 0 instead of 1 also compiles). The only out-of-bounds accesses the bounds check
reports are the not-taken branches of T_concat's if_then_else.

Needs only apache-tvm and numpy. Exit status: 1 when the bug reproduces, 0 when it does not."""

import json
import signal
import subprocess
import sys

import numpy as np

SCRIPT = r'''
{"root_index":909,"nodes":[{"type":"None"},{"type":"ir.Type","data":{"span":0}},{"type":"ffi.String","data":"main"},{"type":"ir.GlobalVar","data":{"span":0,"ty":1,"name_hint":2}},{"type":"ir.PrimType","data":{"span":0,"dtype":"int64"}},{"type":"int","data":1},{"type":"ir.IntImm","data":{"span":0,"ty":4,"value":5}},{"type":"int","data":8},{"type":"ir.IntImm","data":{"span":0,"ty":4,"value":7}},{"type":"int","data":9},{"type":"ir.IntImm","data":{"span":0,"ty":4,"value":9}},{"type":"int","data":6},{"type":"ir.IntImm","data":{"span":0,"ty":4,"value":11}},{"type":"ffi.Array","data":[6,8,10,12]},{"type":"relax.ShapeType","data":{"span":0,"values":13,"ndim":4}},{"type":"relax.expr.ShapeExpr","data":{"span":0,"ty":14,"values":13}},{"type":"ir.PrimType","data":{"span":0,"dtype":"int8"}},{"type":"relax.TensorType","data":{"span":0,"shape":15,"dtype":16,"vdevice":0,"ndim":4}},{"type":"ir.IntImm","data":{"span":0,"ty":4,"value":5}},{"type":"int","data":200},{"type":"ir.IntImm","data":{"span":0,"ty":4,"value":19}},{"type":"ffi.Array","data":[18,20]},{"type":"relax.ShapeType","data":{"span":0,"values":21,"ndim":2}},{"type":"relax.expr.ShapeExpr","data":{"span":0,"ty":22,"values":21}},{"type":"relax.TensorType","data":{"span":0,"shape":23,"dtype":16,"vdevice":0,"ndim":2}},{"type":"ffi.Array","data":[17,24]},{"type":"ffi.Array","data":[]},{"type":"ir.TupleType","data":{"span":0,"fields":26}},{"type":"relax.FuncType","data":{"span":0,"params":25,"ret":27,"derive_func":0,"purity":false}},{"type":"ffi.String","data":"global_symbol"},{"type":"ffi.String","data":"tirx.noalias"},{"type":"bool","data":true},{"type":"ffi.String","data":"s_tir"},{"type":"ffi.Map","data":[29,2,30,31,32,31]},{"type":"ir.DictAttrs","data":{"__dict__":33}},{"type":"ffi.String","data":"global"},{"type":"ir.PrimType","data":{"span":0,"dtype":"int32"}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":7}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"ffi.Array","data":[37,38,39,40]},{"type":"ffi.Array","data":[]},{"type":"int","data":0},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":41,"strides":42,"elem_offset":44,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":45}},{"type":"ffi.String","data":"x"},{"type":"ir.Var","data":{"span":0,"ty":46,"name":47}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":19}},{"type":"ffi.Array","data":[49,50]},{"type":"ffi.Array","data":[]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":51,"strides":52,"elem_offset":53,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":54}},{"type":"ffi.String","data":"T_concat"},{"type":"ir.Var","data":{"span":0,"ty":55,"name":56}},{"type":"ffi.Array","data":[48,57]},{"type":"ffi.Array","data":[]},{"type":"ir.TupleType","data":{"span":0,"fields":59}},{"type":"ffi.Array","data":[]},{"type":"ir.PrimType","data":{"span":0,"dtype":"bool"}},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.String","data":"root"},{"type":"int","data":4},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"ffi.Array","data":[37,38,69,70]},{"type":"ffi.Array","data":[]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":71,"strides":72,"elem_offset":73,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":74}},{"type":"ffi.String","data":"adaptive_pool_max"},{"type":"ir.Var","data":{"span":0,"ty":75,"name":76}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"int","data":128},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":79}},{"type":"ffi.Array","data":[78,80]},{"type":"ffi.Array","data":[]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":81,"strides":82,"elem_offset":83,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":84}},{"type":"ffi.String","data":"T_reshape"},{"type":"ir.Var","data":{"span":0,"ty":85,"name":86}},{"type":"int","data":3},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":88}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":88}},{"type":"ffi.Array","data":[37,38,89,90]},{"type":"ffi.Array","data":[]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":91,"strides":92,"elem_offset":93,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":94}},{"type":"ir.Var","data":{"span":0,"ty":95,"name":76}},{"type":"int","data":72},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":97}},{"type":"ffi.Array","data":[49,98]},{"type":"ffi.Array","data":[]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":99,"strides":100,"elem_offset":101,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":102}},{"type":"ir.Var","data":{"span":0,"ty":103,"name":86}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":88}},{"type":"ffi.Array","data":[105,37,38,89,90]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":106,"strides":92,"elem_offset":93,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":94}},{"type":"ffi.String","data":"adaptive_pool_max.rf"},{"type":"ir.Var","data":{"span":0,"ty":107,"name":108}},{"type":"ffi.Array","data":[77,87,96,104,109]},{"type":"ffi.Array","data":[]},{"type":"ffi.Map","data":[]},{"type":"ffi.String","data":"ax0"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":113}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.String","data":"ax1"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":116}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.String","data":"ax2"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":119}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.String","data":"ax3"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":122}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[114,117,120,123]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":115,"extent":37,"span":0}},{"type":"ffi.String","data":"v_ax0"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"ffi.String","data":""},{"type":"tirx.IterVar","data":{"dom":127,"var":129,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":118,"extent":38,"span":0}},{"type":"ffi.String","data":"v_ax1"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":132,"var":134,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":121,"extent":69,"span":0}},{"type":"ffi.String","data":"v_ax2"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":137}},{"type":"tirx.IterVar","data":{"dom":136,"var":138,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":124,"extent":70,"span":0}},{"type":"ffi.String","data":"v_ax3"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":141}},{"type":"tirx.IterVar","data":{"dom":140,"var":142,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[131,135,139,143]},{"type":"tirx.BufferRegionType","data":{"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":129,"extent":146,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":134,"extent":148,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":150}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":151,"b":152}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":138,"b":154}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":155,"b":156}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":157,"b":158}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":159,"b":160}},{"type":"ir.Range","data":{"min":153,"extent":161,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":163}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":164,"b":165}},{"type":"int","data":2},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":142,"b":168}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":169,"b":170}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":171,"b":172}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":173,"b":174}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":175,"b":176}},{"type":"ir.Range","data":{"min":166,"extent":177,"span":0}},{"type":"ffi.Array","data":[147,149,162,178]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":48,"region":179}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":181}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":182,"b":183}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":184,"b":185}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"prim.EQ","data":{"span":0,"ty":62,"a":186,"b":187}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":189}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":190,"b":191}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":192,"b":193}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":195}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":196,"b":197}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":198,"b":199}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":200,"b":201}},{"type":"prim.Select","data":{"span":0,"ty":36,"condition":188,"true_value":194,"false_value":202}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":204}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":205,"b":206}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":203,"b":207}},{"type":"ffi.Array","data":[37,38,69,208,70]},{"type":"tirx.BufferType","data":{"span":0,"dtype":16,"storage_scope":35,"shape":209,"strides":72,"elem_offset":73,"data_alignment":64,"offset_factor":1,"layout":0,"allocated_addr":74}},{"type":"ir.Var","data":{"span":0,"ty":210,"name":108}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":129,"extent":212,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":134,"extent":214,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":138,"extent":216,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":142,"b":219}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":220,"b":221}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":222,"b":223}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":224,"b":225}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":226,"b":227}},{"type":"ir.Range","data":{"min":218,"extent":228,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":142,"extent":230,"span":0}},{"type":"ffi.Array","data":[213,215,217,229,231]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":211,"region":232}},{"type":"ffi.Array","data":[180,233]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":129,"extent":235,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":134,"extent":237,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":138,"extent":239,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":142,"b":241}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":242,"b":243}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":244,"b":245}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":246,"b":247}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":248,"b":249}},{"type":"ir.Range","data":{"min":218,"extent":250,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":142,"extent":252,"span":0}},{"type":"ffi.Array","data":[236,238,240,251,253]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":211,"region":254}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":129,"extent":256,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":134,"extent":258,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":138,"extent":260,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":142,"extent":262,"span":0}},{"type":"ffi.Array","data":[257,259,261,263]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":77,"region":264}},{"type":"ffi.Array","data":[255,265]},{"type":"ffi.String","data":"adaptive_pool_max_l1"},{"type":"ffi.Array","data":[211]},{"type":"ffi.Array","data":[]},{"type":"ffi.String","data":"schedule_rule"},{"type":"ffi.String","data":"meta_schedule.adaptive_pool_max"},{"type":"ffi.String","data":"buffer_dim_align"},{"type":"ffi.Array","data":[5,167,167,5]},{"type":"ffi.Array","data":[273]},{"type":"ffi.Map","data":[270,271,272,274]},{"type":"ffi.String","data":"rv0_rv1_fused"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":276}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":279}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":280,"b":281}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":282,"b":283}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"prim.EQ","data":{"span":0,"ty":62,"a":284,"b":285}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":287}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":288,"b":289}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":290,"b":291}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":293}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":294,"b":295}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":296,"b":297}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":298,"b":299}},{"type":"prim.Select","data":{"span":0,"ty":36,"condition":286,"true_value":292,"false_value":300}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":302}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":303,"b":304}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":301,"b":305}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":307}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":308,"b":309}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":310,"b":311}},{"type":"prim.EQ","data":{"span":0,"ty":62,"a":312,"b":187}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":314}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":315,"b":316}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":317,"b":318}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":320}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":321,"b":322}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":323,"b":324}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":325,"b":326}},{"type":"prim.Select","data":{"span":0,"ty":36,"condition":313,"true_value":319,"false_value":327}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":329}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":330,"b":331}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":328,"b":332}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":306,"b":333}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":335}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":336,"b":337}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":338,"b":339}},{"type":"prim.EQ","data":{"span":0,"ty":62,"a":340,"b":187}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":342}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":343,"b":344}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":345,"b":346}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":348}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":349,"b":350}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":351,"b":352}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":353,"b":354}},{"type":"prim.Select","data":{"span":0,"ty":36,"condition":341,"true_value":347,"false_value":355}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":357}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":358,"b":359}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":356,"b":360}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":277,"b":361}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":363}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":364,"b":365}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":366,"b":367}},{"type":"prim.EQ","data":{"span":0,"ty":62,"a":368,"b":187}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":370}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":371,"b":372}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":373,"b":374}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":376}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":377,"b":378}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":379,"b":380}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":381,"b":382}},{"type":"prim.Select","data":{"span":0,"ty":36,"condition":369,"true_value":375,"false_value":383}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":142,"b":385}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":386,"b":387}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":384,"b":388}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":277,"b":389}},{"type":"ffi.Array","data":[362,129,134,138,142,390]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":218,"extent":208,"span":0}},{"type":"ffi.String","data":"vrv1"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":394}},{"type":"tirx.IterVar","data":{"dom":393,"var":395,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":129,"extent":397,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":398,"var":399,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":134,"extent":401,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":402,"var":403,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":138,"extent":405,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":137}},{"type":"tirx.IterVar","data":{"dom":406,"var":407,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":142,"extent":409,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":141}},{"type":"tirx.IterVar","data":{"dom":410,"var":411,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":414}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":415,"b":416}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":417,"b":418}},{"type":"prim.EQ","data":{"span":0,"ty":62,"a":419,"b":285}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":421}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":422,"b":423}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":424,"b":425}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":427}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":428,"b":429}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":430,"b":431}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":432,"b":433}},{"type":"prim.Select","data":{"span":0,"ty":36,"condition":420,"true_value":426,"false_value":434}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":138,"b":436}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":437,"b":438}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":435,"b":439}},{"type":"ir.Range","data":{"min":413,"extent":440,"span":0}},{"type":"ffi.String","data":"v_rv0"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":442}},{"type":"tirx.IterVar","data":{"dom":441,"var":443,"iter_type":2,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[396,400,404,408,412,444]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":399,"extent":446,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":403,"extent":448,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":407,"b":450}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":451,"b":452}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":453,"b":443}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":454,"extent":455,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":11}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":411,"b":457}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":458,"b":459}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":460,"b":395}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":461,"extent":462,"span":0}},{"type":"ffi.Array","data":[447,449,456,463]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":48,"region":464}},{"type":"ffi.Array","data":[465]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":399,"extent":467,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":403,"extent":469,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":407,"extent":471,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":395,"extent":473,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":411,"extent":475,"span":0}},{"type":"ffi.Array","data":[468,470,472,474,476]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":211,"region":477}},{"type":"ffi.Array","data":[478]},{"type":"ffi.String","data":"adaptive_pool_max_rf"},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Map","data":[270,271]},{"type":"int","data":-128},{"type":"ir.IntImm","data":{"span":0,"ty":16,"value":484}},{"type":"ffi.Array","data":[399,403,407,395,411]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":211,"value":485,"indices":486}},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":211,"indices":486}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":460,"b":395}},{"type":"ffi.Array","data":[399,403,454,489]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":48,"indices":490}},{"type":"prim.Max","data":{"span":0,"ty":16,"a":488,"b":491}},{"type":"tirx.BufferStore","data":{"span":0,"buffer":211,"value":492,"indices":486}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":445,"reads":466,"writes":479,"name_hint":480,"alloc_buffers":481,"match_buffers":482,"annotations":483,"init":487,"body":493}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":391,"predicate":392,"block":494}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":277,"min":278,"extent":334,"kind":0,"body":495,"thread_binding":0,"annotations":496,"step":0}},{"type":"ffi.String","data":"rv1"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":498}},{"type":"ffi.Array","data":[499,129,134,138,142]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":218,"extent":208,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":394}},{"type":"tirx.IterVar","data":{"dom":502,"var":503,"iter_type":2,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":398,"var":505,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":402,"var":507,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":137}},{"type":"tirx.IterVar","data":{"dom":406,"var":509,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":141}},{"type":"tirx.IterVar","data":{"dom":410,"var":511,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[504,506,508,510,512]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":505,"extent":514,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":507,"extent":516,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":509,"extent":518,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":503,"extent":520,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":511,"extent":522,"span":0}},{"type":"ffi.Array","data":[515,517,519,521,523]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":211,"region":524}},{"type":"ffi.Array","data":[525]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":505,"extent":527,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":507,"extent":529,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":509,"extent":531,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":511,"extent":533,"span":0}},{"type":"ffi.Array","data":[528,530,532,534]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":77,"region":535}},{"type":"ffi.Array","data":[536]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[505,507,509,511]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":77,"value":485,"indices":540}},{"type":"ir.PrimType","data":{"span":0,"dtype":"int16"}},{"type":"prim.Cast","data":{"span":0,"ty":542,"value":509}},{"type":"prim.Cast","data":{"span":0,"ty":36,"value":543}},{"type":"ffi.Array","data":[505,507,544,511]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":77,"indices":545}},{"type":"ffi.Array","data":[505,507,509,503,511]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":211,"indices":547}},{"type":"prim.Max","data":{"span":0,"ty":16,"a":546,"b":548}},{"type":"ffi.Array","data":[505,507,509,511]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":77,"value":549,"indices":550}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":513,"reads":526,"writes":537,"name_hint":76,"alloc_buffers":538,"match_buffers":539,"annotations":483,"init":541,"body":551}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":500,"predicate":501,"block":552}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":499,"min":218,"extent":208,"kind":0,"body":553,"thread_binding":0,"annotations":554,"step":0}},{"type":"ffi.Array","data":[497,555]},{"type":"tirx.SeqStmt","data":{"span":0,"seq":556}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":144,"reads":234,"writes":266,"name_hint":267,"alloc_buffers":268,"match_buffers":269,"annotations":275,"init":0,"body":557}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":125,"predicate":126,"block":558}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":123,"min":124,"extent":70,"kind":0,"body":559,"thread_binding":0,"annotations":560,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":120,"min":121,"extent":69,"kind":0,"body":561,"thread_binding":0,"annotations":562,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":117,"min":118,"extent":38,"kind":0,"body":563,"thread_binding":0,"annotations":564,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":114,"min":115,"extent":37,"kind":0,"body":565,"thread_binding":0,"annotations":566,"step":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":113}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":116}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[568,570]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":569,"extent":78,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":574,"var":575,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":571,"extent":80,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":577,"var":578,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[576,579]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":581,"extent":582,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":79}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":578,"b":584}},{"type":"int","data":16},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":586}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":585,"b":587}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":588,"extent":589,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":586}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":578,"b":591}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":592,"b":593}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":594,"extent":595,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":68}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":578,"b":597}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":598,"extent":599,"span":0}},{"type":"ffi.Array","data":[583,590,596,600]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":77,"region":601}},{"type":"ffi.Array","data":[602]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":575,"extent":604,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":578,"extent":606,"span":0}},{"type":"ffi.Array","data":[605,607]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":87,"region":608}},{"type":"ffi.Array","data":[609]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Map","data":[]},{"type":"ffi.String","data":"w_let"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":614}},{"type":"prim.Let","data":{"span":0,"ty":36,"var":615,"value":584,"body":615}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":578,"b":616}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":617,"b":587}},{"type":"ffi.Array","data":[581,618,594,598]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":77,"indices":619}},{"type":"ffi.Array","data":[575,578]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":87,"value":620,"indices":621}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":580,"reads":603,"writes":610,"name_hint":86,"alloc_buffers":611,"match_buffers":612,"annotations":613,"init":0,"body":622}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":572,"predicate":573,"block":623}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":570,"min":571,"extent":80,"kind":0,"body":624,"thread_binding":0,"annotations":625,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":568,"min":569,"extent":78,"kind":0,"body":626,"thread_binding":0,"annotations":627,"step":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":113}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":116}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":119}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":122}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.String","data":"rv0"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":637}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":498}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"ffi.Array","data":[638,629,631,633,635,640]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":639,"extent":105,"span":0}},{"type":"ffi.String","data":"vrv0"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":646}},{"type":"tirx.IterVar","data":{"dom":645,"var":647,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":630,"extent":37,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":649,"var":650,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":632,"extent":38,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":652,"var":653,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":634,"extent":89,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":137}},{"type":"tirx.IterVar","data":{"dom":655,"var":656,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":636,"extent":90,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":141}},{"type":"tirx.IterVar","data":{"dom":658,"var":659,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":641,"extent":642,"span":0}},{"type":"ffi.String","data":"v_rv1"},{"type":"ir.Var","data":{"span":0,"ty":36,"name":662}},{"type":"tirx.IterVar","data":{"dom":661,"var":663,"iter_type":2,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[648,651,654,657,660,664]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":650,"extent":666,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":653,"extent":668,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":88}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":656,"b":670}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":671,"b":647}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":672,"extent":673,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":167}},{"type":"prim.Mul","data":{"span":0,"ty":36,"a":659,"b":675}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":676,"b":663}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":677,"extent":678,"span":0}},{"type":"ffi.Array","data":[667,669,674,679]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":48,"region":680}},{"type":"ffi.Array","data":[681]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":647,"extent":683,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":650,"extent":685,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":653,"extent":687,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":656,"extent":689,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":659,"extent":691,"span":0}},{"type":"ffi.Array","data":[684,686,688,690,692]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":109,"region":693}},{"type":"ffi.Array","data":[694]},{"type":"ffi.String","data":"adaptive_pool_max_1_rf"},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Map","data":[270,271]},{"type":"ir.IntImm","data":{"span":0,"ty":16,"value":484}},{"type":"ffi.Array","data":[647,650,653,656,659]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":109,"value":700,"indices":701}},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":109,"indices":701}},{"type":"prim.Add","data":{"span":0,"ty":36,"a":671,"b":647}},{"type":"ffi.Array","data":[650,653,704,677]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":48,"indices":705}},{"type":"prim.Max","data":{"span":0,"ty":16,"a":703,"b":706}},{"type":"tirx.BufferStore","data":{"span":0,"buffer":109,"value":707,"indices":701}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":665,"reads":682,"writes":695,"name_hint":696,"alloc_buffers":697,"match_buffers":698,"annotations":699,"init":702,"body":708}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":643,"predicate":644,"block":709}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":640,"min":641,"extent":642,"kind":0,"body":710,"thread_binding":0,"annotations":711,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":638,"min":639,"extent":105,"kind":0,"body":712,"thread_binding":0,"annotations":713,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":635,"min":636,"extent":90,"kind":0,"body":714,"thread_binding":0,"annotations":715,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":633,"min":634,"extent":89,"kind":0,"body":716,"thread_binding":0,"annotations":717,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":631,"min":632,"extent":38,"kind":3,"body":718,"thread_binding":0,"annotations":719,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":629,"min":630,"extent":37,"kind":0,"body":720,"thread_binding":0,"annotations":721,"step":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":113}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":116}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":119}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":122}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":637}},{"type":"ffi.Array","data":[727,723,724,725,726]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":639,"extent":105,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":646}},{"type":"tirx.IterVar","data":{"dom":730,"var":731,"iter_type":2,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":649,"var":733,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":652,"var":735,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":137}},{"type":"tirx.IterVar","data":{"dom":655,"var":737,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":141}},{"type":"tirx.IterVar","data":{"dom":658,"var":739,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[732,734,736,738,740]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":731,"extent":742,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":733,"extent":744,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":735,"extent":746,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":737,"extent":748,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":739,"extent":750,"span":0}},{"type":"ffi.Array","data":[743,745,747,749,751]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":109,"region":752}},{"type":"ffi.Array","data":[753]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":733,"extent":755,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":735,"extent":757,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":737,"extent":759,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":739,"extent":761,"span":0}},{"type":"ffi.Array","data":[756,758,760,762]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":96,"region":763}},{"type":"ffi.Array","data":[764]},{"type":"ffi.String","data":"adaptive_pool_max_1"},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[733,735,737,739]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":96,"value":700,"indices":769}},{"type":"ffi.Array","data":[733,735,737,739]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":96,"indices":771}},{"type":"ffi.Array","data":[731,733,735,737,739]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":109,"indices":773}},{"type":"prim.Max","data":{"span":0,"ty":16,"a":772,"b":774}},{"type":"ffi.Array","data":[733,735,737,739]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":96,"value":775,"indices":776}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":741,"reads":754,"writes":765,"name_hint":766,"alloc_buffers":767,"match_buffers":768,"annotations":699,"init":770,"body":777}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":728,"predicate":729,"block":778}},{"type":"tirx.For","data":{"span":0,"loop_var":727,"min":639,"extent":105,"kind":0,"body":779,"thread_binding":0,"annotations":713,"step":0}},{"type":"tirx.For","data":{"span":0,"loop_var":726,"min":636,"extent":90,"kind":0,"body":780,"thread_binding":0,"annotations":715,"step":0}},{"type":"tirx.For","data":{"span":0,"loop_var":725,"min":634,"extent":89,"kind":0,"body":781,"thread_binding":0,"annotations":717,"step":0}},{"type":"tirx.For","data":{"span":0,"loop_var":724,"min":632,"extent":38,"kind":3,"body":782,"thread_binding":0,"annotations":719,"step":0}},{"type":"tirx.For","data":{"span":0,"loop_var":723,"min":630,"extent":37,"kind":0,"body":783,"thread_binding":0,"annotations":721,"step":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":113}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":116}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[785,787]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":786,"extent":49,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":791,"var":792,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":788,"extent":98,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":794,"var":795,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[793,796]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":798,"extent":799,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":97}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":795,"b":801}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":802,"b":803}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":804,"extent":805,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":9}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":795,"b":807}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":88}},{"type":"prim.FloorDiv","data":{"span":0,"ty":36,"a":808,"b":809}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":810,"extent":811,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":88}},{"type":"prim.FloorMod","data":{"span":0,"ty":36,"a":795,"b":813}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":814,"extent":815,"span":0}},{"type":"ffi.Array","data":[800,806,812,816]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":96,"region":817}},{"type":"ffi.Array","data":[818]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":792,"extent":820,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":795,"extent":822,"span":0}},{"type":"ffi.Array","data":[821,823]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":104,"region":824}},{"type":"ffi.Array","data":[825]},{"type":"ffi.String","data":"T_reshape_1"},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Map","data":[]},{"type":"ffi.Array","data":[798,804,810,814]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":96,"indices":831}},{"type":"ffi.Array","data":[792,795]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":104,"value":832,"indices":833}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":797,"reads":819,"writes":826,"name_hint":827,"alloc_buffers":828,"match_buffers":829,"annotations":830,"init":0,"body":834}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":789,"predicate":790,"block":835}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":787,"min":788,"extent":98,"kind":0,"body":836,"thread_binding":0,"annotations":837,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":785,"min":786,"extent":49,"kind":0,"body":838,"thread_binding":0,"annotations":839,"step":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":113}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":116}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":43}},{"type":"ffi.Array","data":[841,843]},{"type":"ir.IntImm","data":{"span":0,"ty":62,"value":5}},{"type":"ir.Range","data":{"min":842,"extent":49,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":128}},{"type":"tirx.IterVar","data":{"dom":847,"var":848,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ir.Range","data":{"min":844,"extent":50,"span":0}},{"type":"ir.Var","data":{"span":0,"ty":36,"name":133}},{"type":"tirx.IterVar","data":{"dom":850,"var":851,"iter_type":0,"thread_tag":130,"span":0}},{"type":"ffi.Array","data":[849,852]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":848,"extent":854,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":97}},{"type":"prim.Sub","data":{"span":0,"ty":36,"a":851,"b":856}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":857,"extent":858,"span":0}},{"type":"ffi.Array","data":[855,859]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":87,"region":860}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":848,"extent":862,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":851,"extent":864,"span":0}},{"type":"ffi.Array","data":[863,865]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":104,"region":866}},{"type":"ffi.Array","data":[861,867]},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":848,"extent":869,"span":0}},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":5}},{"type":"ir.Range","data":{"min":851,"extent":871,"span":0}},{"type":"ffi.Array","data":[870,872]},{"type":"ir.TensorRegion","data":{"span":0,"ty":145,"source":57,"region":873}},{"type":"ffi.Array","data":[874]},{"type":"ffi.Array","data":[]},{"type":"ffi.Array","data":[]},{"type":"ffi.Map","data":[]},{"type":"ir.Op","data":"prim.if_then_else"},{"type":"ir.IntImm","data":{"span":0,"ty":36,"value":97}},{"type":"prim.LE","data":{"span":0,"ty":62,"a":880,"b":851}},{"type":"ffi.Array","data":[848,857]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":87,"indices":882}},{"type":"ffi.Array","data":[848,851]},{"type":"ir.TensorLoad","data":{"span":0,"ty":16,"source":104,"indices":884}},{"type":"ffi.Array","data":[881,883,885]},{"type":"ffi.Array","data":[]},{"type":"ir.Call","data":{"span":0,"ty":16,"op":879,"args":886,"attrs":0,"ty_args":887}},{"type":"ffi.Array","data":[848,851]},{"type":"tirx.BufferStore","data":{"span":0,"buffer":57,"value":888,"indices":889}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":853,"reads":868,"writes":875,"name_hint":56,"alloc_buffers":876,"match_buffers":877,"annotations":878,"init":0,"body":890}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":845,"predicate":846,"block":891}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":843,"min":844,"extent":50,"kind":0,"body":892,"thread_binding":0,"annotations":893,"step":0}},{"type":"ffi.Map","data":[]},{"type":"tirx.For","data":{"span":0,"loop_var":841,"min":842,"extent":49,"kind":0,"body":894,"thread_binding":0,"annotations":895,"step":0}},{"type":"ffi.Array","data":[567,628,722,784,840,896]},{"type":"tirx.SeqStmt","data":{"span":0,"seq":897}},{"type":"s_tir.SBlock","data":{"span":0,"iter_vars":64,"reads":65,"writes":66,"name_hint":67,"alloc_buffers":110,"match_buffers":111,"annotations":112,"init":0,"body":898}},{"type":"s_tir.SBlockRealize","data":{"span":0,"iter_values":61,"predicate":63,"block":899}},{"type":"tirx.PrimFunc","data":{"span":0,"ty":28,"attrs":34,"params":58,"ret_type":60,"body":900}},{"type":"ffi.Map","data":[3,901]},{"type":"ffi.Map","data":[2,3]},{"type":"ffi.Map","data":[]},{"type":"ir.SourceMap","data":{"source_map":904}},{"type":"ffi.Map","data":[]},{"type":"ir.DictAttrs","data":{"__dict__":906}},{"type":"ffi.Map","data":[]},{"type":"ir.IRModule","data":{"functions":902,"global_var_map_":903,"source_map":905,"attrs":907,"global_infos":908}}],"metadata":{"tvm_version":"0.27.0.post1"}}
'''
REFERENCE_SCRIPT = r'''

'''
CASE = {'kind': 'error',
 'target': 'llvm',
 'pipeline': ['s_tir.LowerInitBlock',
              's_tir.PlanAndUpdateBufferAllocationLocation',
              's_tir.ConvertBlocksToOpaque',
              's_tir.CompactBufferAllocation',
              's_tir.LowerOpaqueBlock',
              'tirx.FlattenBuffer',
              'tirx.BF16ComputeLegalize',
              'tirx.VectorizeLoop:False',
              'tirx.MakePackedAPI',
              'tirx.BF16StorageLegalize'],
 'opt_level': 3,
 'config': {},
 'disabled_passes': [],
 'steps': [],
 'input_seed': 2601150487,
 'input_domains': ['int_full'],
 'names': ['T_concat',
           'T_reshape',
           'T_reshape_1',
           'adaptive_pool_max',
           'adaptive_pool_max_1',
           'adaptive_pool_max_1_rf',
           'adaptive_pool_max_l1',
           'adaptive_pool_max_rf',
           'adaptive_pool_max_rf_1',
           'x'],
 'detail': 'IndexError: Index N out of bounds N',
 'signal': '',
 'rtol': 0.0,
 'atol': 0.0,
 'timeout': 300,
 'expected': "the program compiles and runs (TVM's parser and verifier accept it)",
 'reference_pipeline': ['s_tir.LowerInitBlock',
                        's_tir.ConvertBlocksToOpaque',
                        's_tir.LowerOpaqueBlock',
                        'tirx.FlattenBuffer',
                        'tirx.BF16ComputeLegalize',
                        'tirx.MakePackedAPI',
                        'tirx.BF16StorageLegalize'],
 'reference_scratch': [],
 'determined': None}


def load(program):
    """The module a program text describes: TVMScript, or TVM's JSON (a module whose TVMScript TVM cannot parse)."""
    import tvm

    return tvm.ir.load_json(program) if program.lstrip().startswith("{") else tvm.script.from_source(program)


def scheduled_module(script, steps):
    """The module the script describes, with the recorded schedule steps (TVM schedule traces) applied."""
    import tvm
    from tvm.s_tir import Schedule, Trace

    mod = load(script)
    for trace in steps:
        sch = Schedule(mod, debug_mask="all", error_render_level="none")
        Trace.apply_json_to_schedule(tvm.ir.load_json(trace), sch)
        mod = sch.mod
    return mod


def make_pass(name):
    """A TIR pass by its pipeline name, e.g. "tirx.FlattenBuffer" or "tirx.VectorizeLoop:True"."""
    import tvm

    qualified, _, argument = name.partition(":")
    namespace, _, pass_name = qualified.partition(".")
    factory = getattr({"s_tir": tvm.s_tir.transform, "tirx": tvm.tirx.transform}[namespace], pass_name)
    if not argument:
        return factory()
    if argument in ("True", "False"):
        return factory(argument == "True")
    return factory(int(argument) if argument.isdigit() else argument)


def register_pipeline(pipeline):
    """Register the TIR pass pipeline `pipeline` (pass names, or passes) as TVM's pipeline "repro"; its name."""
    import tvm
    from tvm.s_tir.pipeline import finalize_device_passes, finalize_host_passes

    sequential = tvm.transform.Sequential([make_pass(p) if isinstance(p, str) else p for p in pipeline])
    tvm.tirx.register_tir_pipeline("repro", lambda: (sequential, finalize_host_passes, finalize_device_passes))
    return "repro"


def build(mod, pipeline, opt_level=3, config=None, disabled=()):
    """Compile `mod` for llvm with an explicit TIR pass pipeline; return its entry function."""
    import tvm

    name = register_pipeline(pipeline)
    with tvm.transform.PassContext(opt_level=opt_level, config=config or {}, disabled_pass=list(disabled)):
        return tvm.compile(mod, target=CASE["target"], tir_pipeline=name)["main"]


def draw_inputs(mod):
    """The inputs of main (all parameters but the last, the output), drawn from the recorded seed."""
    rng = np.random.default_rng(CASE["input_seed"])
    func = mod["main"]
    buffers = list(func.params)  # a buffer parameter is the buffer (its shape, dtype)
    arrays = []
    for buffer, domain in zip(buffers[:-1], CASE["input_domains"]):
        shape, dtype = tuple(int(d) for d in buffer.shape), str(buffer.dtype)
        if domain == "normal":
            arrays.append(rng.standard_normal(shape).astype(dtype))
        elif domain == "positive":
            arrays.append(rng.uniform(0.5, 2.0, shape).astype(dtype))
        elif domain == "int_full":
            info = np.iinfo(dtype)
            arrays.append(rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True))
        else:  # int_small
            arrays.append(rng.integers(-8, 8, shape, dtype=dtype, endpoint=True))
    output = buffers[-1]
    return arrays, tuple(int(d) for d in output.shape), str(output.dtype)


def call(entry, inputs, outputs):
    import tvm

    tensors = [tvm.runtime.tensor(array) for array in [*inputs, *outputs]]
    entry(*tensors)
    return tensors[len(inputs)].numpy()


def expose_intermediates(mod):
    """`mod` with the root block's buffers (global or local scope: plain memory on the CPU) made parameters of main
    (after the others), so the run owns their memory (a bounds check sees them) and a caller can fill them; with
    their (shape, dtype)."""
    from tvm import s_tir, tirx

    func = mod["main"]
    realize = func.body
    if not isinstance(realize, s_tir.SBlockRealize):
        return mod, []
    root = realize.block

    def exposable(buffer):
        try:
            [int(d) for d in buffer.shape]
            dtype = str(buffer.dtype)
            numeric = dtype == "bfloat16" or np.dtype(dtype).kind in "fiub"
        except (TypeError, ValueError):
            return False
        scope = buffer.scope() if callable(getattr(buffer, "scope", None)) else "global"
        return numeric and (str(scope) or "global") in ("global", "local")

    exposed = [b for b in root.alloc_buffers if exposable(b)]
    kept = [b for b in root.alloc_buffers if not any(b.same_as(e) for e in exposed)]
    block = s_tir.SBlock(root.iter_vars, root.reads, root.writes, root.name_hint, root.body, root.init, kept,
                         root.match_buffers, root.annotations)
    new = tirx.PrimFunc([*func.params, *exposed], s_tir.SBlockRealize(realize.iter_values, realize.predicate, block),
                        func.ret_type, func.attrs)
    return mod.__class__({"main": new}), [(tuple(int(d) for d in b.shape), str(b.dtype)) for b in exposed]


OUT_OF_BOUNDS = []


def observe_out_of_bounds(mod, inputs, outputs):
    """Run `mod` built so that every access outside its buffer is reported (buffer, flat index, extent) instead of
    made: a pass right after FlattenBuffer guards each store by the bounds of all its accesses; loops run serially."""
    import tvm
    import tvm_ffi
    from tvm import tirx

    def report(write, name, index, extent):
        if len(OUT_OF_BOUNDS) < 64:
            kind = "write" if int(write) else "read"
            OUT_OF_BOUNDS.append(f"{kind} {name}[{int(index)}] (flat; its extent is {int(extent)})")
        return 0

    tvm.register_global_func("repro.out_of_bounds", report, override=True)

    def guard(store):
        accesses = []
        tvm_ffi.structural_walk(store, [((tvm.ir.TensorLoad, tirx.BufferStore), accesses.append)])
        checks = []
        for access in accesses:
            buffer = access.buffer if isinstance(access, tirx.BufferStore) else access.source
            if len(buffer.shape) != 1 or len(access.indices) != 1 or access.indices[0].ty.dtype.lanes != 1:
                continue
            index, extent = access.indices[0], buffer.shape[0]
            inside = tirx.all(index >= 0, index < extent)
            write = int(isinstance(access, tirx.BufferStore))
            call = tirx.Evaluate(tirx.call_packed("repro.out_of_bounds", write, buffer.name, index, extent))
            checks.append((inside, tirx.IfThenElse(tirx.Not(inside), call, None)))
        if not checks:
            return store
        return tirx.SeqStmt([*(c for _, c in checks), tirx.IfThenElse(tirx.all(*(i for i, _ in checks)), store, None)])

    def serial(loop):
        if loop.kind in (tirx.ForKind.VECTORIZED, tirx.ForKind.UNROLLED, tirx.ForKind.PARALLEL):
            return tirx.For(loop.loop_var, loop.min, loop.extent, tirx.ForKind.SERIAL, loop.body,
                            loop.thread_binding, loop.annotations)
        return loop

    def instrument(func, _mod, _ctx):
        return func.with_body(tvm_ffi.structural_map(func.body, [(tirx.BufferStore, guard), (tirx.For, serial)]))

    pipeline = []
    for name in CASE["reference_pipeline"]:
        pipeline.append(make_pass(name))
        if name == "tirx.FlattenBuffer":
            pipeline.append(tvm.tirx.transform.prim_func_pass(instrument, opt_level=0, name="repro.ObserveBounds"))
    call(build(mod, pipeline), inputs, outputs)
    return list(OUT_OF_BOUNDS)


def cuda_source(mod):
    """TVM's CUDA C for `mod` (already scheduled for the GPU), built with CASE's passes; never loaded, so no GPU
    is needed. On a machine with a GPU TVM compiles the source while it builds (tvm_callback_cuda_compile); this
    hook answers with nvcc's PTX, or nothing where nvcc refuses, so what is checked is the source, here as there."""
    import tvm
    import tvm_ffi
    from tvm.support import nvcc

    target = tvm.target.Target(CASE["target"])

    def compile_with_nvcc(code):
        try:
            with target:
                return nvcc.compile_cuda(code, target_format="ptx", compiler="nvcc")
        except RuntimeError:
            return b""

    tvm_ffi.register_global_func("tvm_callback_cuda_compile", compile_with_nvcc, override=True)
    with tvm.transform.PassContext(opt_level=CASE["opt_level"], config=CASE["config"],
                                   disabled_pass=CASE["disabled_passes"]):
        if CASE["pipeline"]:
            executable = tvm.compile(mod, target=target, tir_pipeline=register_pipeline(CASE["pipeline"]))
        else:
            executable = tvm.compile(mod, target=target)
    sources = [m.inspect_source("") for m in executable.mod.imports if m.kind == "cuda"]
    return (sources[0] if sources else ""), target


def nvcc_first_error(source, target):
    """nvcc's first error on `source` ("error: ..."), or None when nvcc compiles it."""
    import re

    from tvm.support import nvcc

    try:
        with target:
            nvcc.compile_cuda(source, target_format="ptx", compiler="nvcc")
    except RuntimeError as error:
        for line in str(error).splitlines():
            match = re.search(r"\)\s*:\s*(?:catastrophic )?error\s*:?\s*(.*)", line)
            if match:
                return f"error: {match.group(1).strip()}"
        return str(error).strip().splitlines()[-1]
    return None


def launch_violations(source, target):
    """The kernels whose threads per block (TVM writes them as __launch_bounds__) exceed the target's limit."""
    import re

    limit = int(target.attrs["max_num_threads"])
    kernels = re.findall(r"__global__\s+void\s+__launch_bounds__\((\d+)\)\s+(\w+)\s*\(", source)
    return [f"kernel {name}: {threads} threads per block, the target allows {limit}"
            for threads, name in kernels if int(threads) > limit]


def cuda_child():
    """The TVM part of a CUDA build's finding: build for CUDA, then check what the kind says."""
    try:
        source, target = cuda_source(load(SCRIPT))
    except Exception as exc:  # TVM reports the bug as an exception
        print(json.dumps({"outcome": "error", "error_type": type(exc).__name__, "message": str(exc)}))
        return
    report = {"outcome": "ran", "kernel": "__global__" in source}
    if CASE["kind"] == "rejected_code":
        report["nvcc_error"] = nvcc_first_error(source, target)
    if CASE["kind"] == "launch_limit":
        report["launch"] = launch_violations(source, target)
    print(json.dumps(report))


def child():
    """The TVM part, in a child process: prints one JSON line saying what happened (a crash prints nothing)."""
    if isinstance(CASE["target"], dict):  # a CUDA target dict: a CUDA build's finding
        cuda_child()
        return
    mod = scheduled_module(SCRIPT, CASE["steps"])
    inputs, out_shape, out_dtype = draw_inputs(mod)
    if CASE["kind"] == "out_of_bounds":
        exposed, scratch = expose_intermediates(mod)
        buffers = [np.zeros(out_shape, out_dtype), *(np.zeros(shape, dtype) for shape, dtype in scratch)]
        print(json.dumps({"outcome": "ran", "out_of_bounds": observe_out_of_bounds(exposed, inputs, buffers)}))
        return
    expected = None
    if CASE["kind"] == "mismatch":  # the reference: the same program, loops serial, minimal lowering
        reference = load(REFERENCE_SCRIPT)
        scratch = [np.zeros(shape, dtype) for shape, dtype in CASE["reference_scratch"]]
        expected = call(build(reference, CASE["reference_pipeline"]), inputs, [np.zeros(out_shape, out_dtype),
                                                                                *scratch])
    try:
        entry = build(mod, CASE["pipeline"], CASE["opt_level"], CASE["config"], CASE["disabled_passes"])
        got = call(entry, inputs, [np.zeros(out_shape, out_dtype)])
    except Exception as exc:  # TVM reports the bug as an exception
        print(json.dumps({"outcome": "error", "error_type": type(exc).__name__, "message": str(exc)}))
        return
    if expected is None:
        print(json.dumps({"outcome": "ran"}))
        return
    print(json.dumps({"outcome": "ran", **compare(got, expected)}))


def compare(got, expected):
    """TVM's output against the reference's, on the elements the reference determines, within the tolerance."""
    mask = np.ones(expected.shape, dtype=bool)
    if CASE["determined"] is not None:
        mask = np.unpackbits(np.array(CASE["determined"], dtype=np.uint8), count=expected.size).astype(bool)
        mask = mask.reshape(expected.shape)
    got64, ref64 = got.astype(np.float64)[mask], expected.astype(np.float64)[mask]
    special = ~np.isfinite(ref64)
    same_special = special & ((np.isnan(ref64) & np.isnan(got64)) | (ref64 == got64))
    finite_ref = np.where(special, 0.0, ref64)
    scale = max(float(np.abs(finite_ref).max(initial=0.0)), np.finfo(np.float64).tiny)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(np.where(special, 0.0, got64) - finite_ref)
        error = np.where(np.isnan(error), np.inf, error)
        bad = np.where(special, ~same_special, error > CASE["rtol"] * np.abs(finite_ref) + CASE["atol"] * scale)
    if not bad.any():
        return {"wrong": 0, "of": int(mask.sum())}
    worst = int(np.argmax(np.where(bad, np.where(special, np.inf, error), -1.0)))
    return {"wrong": int(bad.sum()), "of": int(mask.sum()), "got": float(got64[worst]),
            "expected": float(ref64[worst])}


def normalize(message):
    """The line of a TVM error that says what failed, with what varies between programs stripped (numbers,
    addresses, quoted and program names): the same as the finding's signature detail."""
    import re

    lines = [line.strip() for line in message.splitlines() if line.strip()]
    candidates = [i for i, line in enumerate(lines) if "Check failed" in line]
    candidates += [i for i, line in enumerate(lines) if not line.startswith(("File ", "Traceback", "at ", "#"))]
    line = lines[candidates[0]] if candidates else (lines[0] if lines else "")
    if candidates and line.endswith(":") and "Check failed" not in line and candidates[0] + 1 < len(lines):
        line = f"{line} {lines[candidates[0] + 1]}"
    if CASE["names"]:
        names = "|".join(sorted(map(re.escape, CASE["names"]), key=len, reverse=True))
        line = re.sub(r"\b(" + names + r")(_\d+)?\b", "_", line)
    line = re.sub(r"0x[0-9a-fA-F]+", "ADDR", line)
    line = re.sub(r"(?<!\w)(['\"`])[^'\"`\n]{1,80}\1", r"\1_\1", line)
    line = re.sub(r"(?<=[A-Za-z])_\d+\b", "_N", line)
    line = re.sub(r"(?<![\w.])[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", "N", line)
    return re.sub(r"\s+", " ", line).strip()[:200]


def verdict(returncode, report):
    """(reproduces?, one line saying what happened)."""
    kind = CASE["kind"]
    if returncode < 0:
        name = signal.Signals(-returncode).name
        if kind == "crash":
            return name == CASE["signal"], f"TVM crashed with {name} (expected {CASE['signal']})"
        return False, f"changed: TVM crashed with {name}"
    if report is None:
        return False, f"changed: the TVM part exited with status {returncode} and said nothing"
    if report["outcome"] == "error":
        detail = f"{report['error_type']}: {normalize(report['message'])}"
        if kind == "error":
            return detail == CASE["detail"], f"TVM raised {detail}"
        return False, f"changed: TVM raised {detail}"
    if kind == "rejected_code" and report.get("nvcc_error"):
        detail = normalize(report["nvcc_error"])
        return detail == CASE["detail"], f"nvcc rejects TVM's CUDA C: {report['nvcc_error']}"
    if kind == "launch_limit" and report.get("launch"):
        return True, "; ".join(report["launch"])
    if kind == "out_of_bounds" and report.get("out_of_bounds"):
        accesses = report["out_of_bounds"]
        return True, f"{len(accesses)} accesses out of bounds at run time, e.g. {', '.join(accesses[:3])}"
    if kind == "mismatch" and report.get("wrong"):
        return True, (f"wrong result: {report['wrong']} of {report['of']} elements differ from the reference, "
                      f"e.g. got {report['got']!r}, expected {report['expected']!r}")
    if kind in ("crash", "timeout"):
        return False, f"fixed: no {kind}"
    if isinstance(CASE["target"], dict):
        return False, {"rejected_code": "fixed: nvcc compiles TVM's CUDA C",
                       "launch_limit": "fixed: every kernel fits the target's threads per block"}.get(
                           kind, "fixed: TVM builds it for CUDA")
    return False, "fixed: TVM compiled and ran it" + (" and the result is right" if kind == "mismatch" else "")


def main():
    if sys.argv[1:] == ["--child"]:
        child()
        return 0
    import tvm

    print(f"TVM {tvm.__version__}, target {CASE['target']}")
    print(f"expected: {CASE['expected']}")
    try:
        done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True,
                              timeout=CASE["timeout"])
    except subprocess.TimeoutExpired:
        reproduces, what = CASE["kind"] == "timeout", f"TVM did not finish within {CASE['timeout']} s"
    else:
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        reproduces, what = verdict(done.returncode, json.loads(lines[-1]) if lines else None)
        if done.returncode < 0 and done.stderr.strip():
            print("TVM's last words:\n  " + "\n  ".join(done.stderr.strip().splitlines()[-12:]))
    print(f"actual:   {what}")
    print("BUG REPRODUCES" if reproduces else "does not reproduce")
    return 1 if reproduces else 0


if __name__ == "__main__":
    sys.exit(main())
