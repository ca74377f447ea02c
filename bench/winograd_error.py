#!/usr/bin/env python3
"""fp32 error of Winograd F(2x2,3x3) and F(4x4,3x3) against a float64 direct
convolution, one output tile, C input channels (He-initialised weights,
normal inputs). F(4x4,3x3) errs by up to ~9e-6 relative per layer at
C = 512, near the 1e-5 bar of convkit's fast kernels: convkit uses it up to
256 input channels, on maps where it is faster (src/runtime/fastconv.c,
wino_f4_ok), and F(2x2,3x3) elsewhere.
Run: /usr/bin/python3 bench/winograd_error.py (numpy only)."""
import numpy as np
rng=np.random.default_rng(0)
BT=np.array([[4,0,-5,0,1,0],[0,-4,-4,1,1,0],[0,4,-4,-1,1,0],[0,-2,-1,2,1,0],[0,2,-1,-2,1,0],[0,4,0,-5,0,1]],np.float32)
G=np.array([[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],[0,0,1]],np.float64)
AT=np.array([[1,1,1,1,1,0],[0,1,-1,2,-2,0],[0,1,1,4,4,0],[0,1,-1,8,-8,1]],np.float32)
for C in (64,256,512):
  O=16
  x=rng.standard_normal((C,6,6)).astype(np.float32)
  w=(rng.standard_normal((O,C,3,3))*np.sqrt(2/(9*C))).astype(np.float32)
  # reference float64 direct valid conv -> 4x4
  ref=np.zeros((O,4,4))
  for i in range(4):
    for j in range(4):
      ref[:,i,j]=np.einsum('ocij,cij->o',w.astype(np.float64),x[:,i:i+3,j:j+3].astype(np.float64))
  U=np.einsum('ak,ockl,bl->ocab',G,w.astype(np.float64),G).astype(np.float32)
  V=np.einsum('ak,ckl,bl->cab',BT,x,BT).astype(np.float32)  # float32 transform (approx)
  M=np.einsum('ocab,cab->oab',U,V).astype(np.float32)
  Y=np.einsum('ia,oab,jb->oij',AT,M,AT).astype(np.float32)
  print(C, 'F43 rel err', np.abs(Y-ref).max()/np.abs(ref).max())
  # F(2,3)
  BT2=np.array([[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]],np.float32)
  G2=np.array([[1,0,0],[.5,.5,.5],[.5,-.5,.5],[0,0,1]])
  AT2=np.array([[1,1,1,0],[0,1,-1,-1]],np.float32)
  x2=x[:,:4,:4]; ref2=ref[:,:2,:2]
  U2=np.einsum('ak,ockl,bl->ocab',G2,w.astype(np.float64),G2).astype(np.float32)
  V2=np.einsum('ak,ckl,bl->cab',BT2,x2,BT2).astype(np.float32)
  M2=np.einsum('ocab,cab->oab',U2,V2).astype(np.float32)
  Y2=np.einsum('ia,oab,jb->oij',AT2,M2,AT2).astype(np.float32)
  print(C, 'F23 rel err', np.abs(Y2-ref2).max()/np.abs(ref2).max())
